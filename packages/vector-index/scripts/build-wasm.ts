// Assembles src/kernel/distance.wat with binaryen and writes the bytes as
// base64 into src/kernel/wasm-bytes.generated.ts, so the published package
// needs no runtime file lookup. Run with `pnpm build:wasm` after editing the
// .wat; a unit test fails if the committed bytes are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assembleWat, renderBytesModule } from './wasm-assemble.js';

const watPath = fileURLToPath(new URL('../src/kernel/distance.wat', import.meta.url));
const outPath = fileURLToPath(new URL('../src/kernel/wasm-bytes.generated.ts', import.meta.url));
const bytes = await assembleWat(readFileSync(watPath, 'utf8'));
writeFileSync(outPath, renderBytesModule(bytes));
console.log(`wrote ${outPath} (${bytes.length} bytes of wasm)`);
