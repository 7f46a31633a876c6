// Assembles src/kernels/wasm-matmul/gemm.wat with binaryen and writes the
// bytes as base64 into gemm-wasm.generated.ts beside it, so the published
// package needs no runtime file lookup. Run with `pnpm build:wasm` after
// editing the .wat; a unit test fails if the committed bytes are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderGemmModule } from './wasm-assemble.js';

const dir = new URL('../src/kernels/wasm-matmul/', import.meta.url);
const watPath = fileURLToPath(new URL('gemm.wat', dir));
const outPath = fileURLToPath(new URL('gemm-wasm.generated.ts', dir));
const text = renderGemmModule(readFileSync(watPath, 'utf8'));
writeFileSync(outPath, text);
console.log(`wrote ${outPath} (${text.length} characters)`);
