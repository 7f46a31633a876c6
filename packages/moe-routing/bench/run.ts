import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffnBench } from './ffn.js';

// `pnpm bench`: forward+backward tokens/s of an 8-expert top-2 MoE FFN against
// a dense FFN with the same active parameters, same run, on cpu and wasm;
// writes bench/results/moe-routing.json.
const rows = await ffnBench(['cpu', 'wasm'], ['dropless', 'capacity']);
console.table(rows.map(({ config: _c, ...r }) => r));
const result = {
  benchmark: '@plexus/moe-routing',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  ffn: { config: rows[0]?.config, rows, targetMoeOverDense: 1.5, targetDispatch: 'dropless' },
};
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'moe-routing.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join(dir, 'moe-routing.json')}`);
