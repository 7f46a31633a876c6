import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../random.js';
import { type GemmBlocks, gemmInto, gemmScratchBytes } from './gemm-driver.js';
import { gemmKernel } from './gemm-module.js';
import { referenceMatMul } from './test-reference.js';
import { type WasmMemory, wasmApi } from './wasm-api.js';

type MemoryCtor = new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;

/**
 * The GEMM on a memory of its own (no tfjs): C = op(A)·op(B) for random
 * inputs, checked against the float64 reference. Small block sizes make
 * small products cross every row, depth and column block boundary.
 */
function check(
  memory: WasmMemory,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  blocks: GemmBlocks,
  seed: number,
): void {
  const ex = gemmKernel(memory);
  if (ex === null) throw new Error('wasm SIMD unavailable');
  const rng = new SeededRandom(seed);
  const a = Float32Array.from({ length: m * k }, () => rng.normal());
  const b = Float32Array.from({ length: k * n }, () => rng.normal());
  const aPtr = 64;
  const bPtr = aPtr + a.length * 4;
  // C starts filled with NaN: every element must be written, none read first.
  const cPtr = bPtr + b.length * 4;
  const scratch = cPtr + m * n * 4;
  expect(scratch + gemmScratchBytes(m, n, k, blocks)).toBeLessThan(memory.buffer.byteLength);
  const heap = new Float32Array(memory.buffer);
  heap.set(a, aPtr / 4);
  heap.set(b, bPtr / 4);
  heap.fill(Number.NaN, cPtr / 4, cPtr / 4 + m * n);
  gemmInto(ex, { a: aPtr, b: bPtr, c: cPtr, m, n, k, transA, transB }, scratch, blocks);
  const got = new Float32Array(memory.buffer, cPtr, m * n);
  const ref = referenceMatMul(a, b, {
    aShape: transA ? [k, m] : [m, k],
    bShape: transB ? [n, k] : [k, n],
    transA,
    transB,
  });
  for (let i = 0; i < got.length; i++) {
    const allowed = 1e-5 * (1 + ref.scale[i]!);
    if (!(Math.abs(got[i]! - ref.values[i]!) <= allowed))
      throw new Error(
        `${m}x${n}x${k} tA=${transA} tB=${transB} blocks ${JSON.stringify(blocks)}: C[${i}] = ${got[i]}, expected ${ref.values[i]}`,
      );
  }
}

const Memory = wasmApi?.Memory as unknown as MemoryCtor;

describe('gemmInto on its own memory', () => {
  it('matches the reference across block boundaries (fast-check)', () => {
    const memory = new Memory({ initial: 16 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(1, 2, 3, 7),
        fc.constantFrom(4, 8, 12),
        fc.constantFrom(8, 16, 24),
        (m, n, k, ta, tb, kc, mc, nc) => {
          check(memory, m, n, k, ta, tb, { mc, kc, nc }, m * 7 + n * 3 + k);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('runs on a shared memory (tfjs-backend-wasm with threads)', () => {
    const memory = new Memory({ initial: 16, maximum: 64, shared: true });
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const [ta, tb] of [
      [false, false],
      [true, true],
    ] as const)
      check(memory, 13, 19, 11, ta, tb, { mc: 8, kc: 4, nc: 16 }, 3);
  });
});
