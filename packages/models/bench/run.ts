// `pnpm bench` for @plexus/models: the training-throughput benchmark
// (bench/train.ts), then the tokenizer benchmark (bench/tokenizer.ts), each
// writing its JSON under bench/results/.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
for (const script of ['train.ts', 'tokenizer.ts']) {
  const path = join(HERE, script);
  if (!existsSync(path)) continue;
  console.log(`== bench/${script}`);
  execFileSync(process.execPath, ['--import', 'tsx', path], { stdio: 'inherit' });
}
