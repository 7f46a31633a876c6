import type { DistanceKernel, KernelLayout } from './kernel.js';

/**
 * Plain-JS distance kernel: the fallback where WebAssembly SIMD is missing,
 * and the reference the wasm kernel is tested against. About 20x slower than
 * the wasm kernel for 128-d vectors.
 */
export function createJsKernel(buffer: ArrayBufferLike, layout: KernelLayout): DistanceKernel {
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);
  const dim = layout.paddedDim;
  const base = layout.vectorBase >> 2;
  const isL2 = layout.metric === 'l2';

  const dist = (a: number, b: number): number => {
    // a and b are float indices here.
    let acc = 0;
    if (isL2) {
      for (let i = 0; i < dim; i++) {
        const d = f32[a + i]! - f32[b + i]!;
        acc += d * d;
      }
      return Math.fround(acc);
    }
    for (let i = 0; i < dim; i++) acc += f32[a + i]! * f32[b + i]!;
    return Math.fround(1 - acc);
  };

  return {
    kind: 'js',
    pair: (a, b) => dist(a >> 2, b >> 2),
    batch(q, ids, n, out) {
      const qf = q >> 2;
      const idf = ids >> 2;
      const of = out >> 2;
      for (let i = 0; i < n; i++) f32[of + i] = dist(qf, base + i32[idf + i]! * dim);
    },
    scan(q, first, n, out) {
      const qf = q >> 2;
      const of = out >> 2;
      for (let j = 0; j < n; j++) f32[of + j] = dist(qf, base + (first + j) * dim);
    },
  };
}
