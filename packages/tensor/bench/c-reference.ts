import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CsrMatrix } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Result of the single-threaded C reference, or why it could not run. */
export type CReferenceResult = { medianMs: number; checksum: number } | { skipped: string };

/**
 * Compile `spmm_ref.c` with `g++ -O3 -march=native` (as C, single thread)
 * and time it on the same CSR arrays and features as the TypeScript kernels.
 */
export function runCReference(
  m: CsrMatrix,
  x: Float32Array,
  F: number,
  reps: number,
): CReferenceResult {
  const tmp = join(here, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const exe = join(tmp, 'spmm_ref');
  try {
    execFileSync('g++', ['-x', 'c', '-O3', '-march=native', '-o', exe, join(here, 'spmm_ref.c')], {
      stdio: 'pipe',
    });
  } catch (error) {
    return { skipped: `g++ could not compile the C reference: ${String(error).split('\n')[0]}` };
  }
  const header = Int32Array.from([m.numRows, m.nnz, F, reps]);
  const weights = m.values ?? new Float32Array(m.nnz).fill(1);
  const file = join(tmp, 'spmm-input.bin');
  const parts = [header, m.indptr, m.indices, weights, x].map(
    (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  );
  writeFileSync(file, Buffer.concat(parts));
  const out = execFileSync(exe, [file], { encoding: 'utf8' });
  return JSON.parse(out) as { medianMs: number; checksum: number };
}
