import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/init-backend.js';
import { CsrMatrix } from './csr/csr-matrix.js';
import { setWebGpuKernelLimits } from './kernels/webgpu/limits.js';
import { webGpuSplitReductionsActive } from './kernels/webgpu/split-reduce.js';
import { sddmm } from './ops/sddmm.js';
import { segmentMax, segmentSum } from './ops/segment.js';
import { spmm } from './ops/spmm.js';
import { topK } from './ops/top-k.js';
import { SeededRandom } from './random.js';
import { kernelConformanceCases } from './testing/conformance.js';
import { expectArraysClose } from './testing/expect-close.js';
import { referenceSegment, referenceSpmm, referenceTopK } from './testing/reference.js';

// Probe for an adapter once, before the suites are declared: without one
// (no GPU and no lavapipe) the suites are skipped, saying why.
let skipReason: string | undefined;
try {
  await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
} catch (error) {
  skipReason = `webgpu kernel tests skipped: no WebGPU adapter (${error instanceof Error ? error.message : String(error)}); install lavapipe (shared/gpu/install-lavapipe.sh) to run them`;
  console.warn(skipReason);
}

// Dawn frees a bind group (one per dispatch) only when V8 collects its JS
// wrapper, and lavapipe backs each descriptor set with its own memory
// mapping: tens of thousands of dispatches between collections reach
// vm.max_map_count (65530), lavapipe's mmap fails and the worker segfaults.
// Collecting after each test keeps the mapping count bounded.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const ensureWebGpu = async (): Promise<void> => {
  if (tf.getBackend() !== 'webgpu')
    await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
};

const read = async (t: tf.Tensor): Promise<Float32Array | Int32Array> =>
  (await t.data()) as Float32Array | Int32Array;

for (const seed of [undefined, 2]) {
  describe.skipIf(skipReason !== undefined)(
    `kernel conformance on webgpu (seed ${seed ?? 'default'})`,
    () => {
      beforeAll(ensureWebGpu);
      afterEach(collectGarbage);
      afterAll(() => {
        tf.disposeVariables();
      });
      const cases =
        seed === undefined
          ? kernelConformanceCases({ scale: 1 })
          : kernelConformanceCases({ scale: 1, seed });
      for (const c of cases) {
        it(c.name, async () => {
          await ensureWebGpu();
          await c.run();
        });
      }
    },
  );
}

/** A random CSR matrix with duplicates and empty rows. */
function randomMatrix(
  rng: SeededRandom,
  rows: number,
  cols: number,
  nnz: number,
  weighted: boolean,
): CsrMatrix {
  const r = Array.from({ length: nnz }, () => rng.int(rows));
  const c = Array.from({ length: nnz }, () => rng.int(cols));
  const w = weighted ? Array.from({ length: nnz }, () => rng.uniform() * 2 - 1) : undefined;
  return CsrMatrix.fromCoo(r, c, [rows, cols], w);
}

describe.skipIf(skipReason !== undefined)('webgpu kernels under tiny tiling limits', () => {
  beforeAll(ensureWebGpu);
  afterEach(() => {
    setWebGpuKernelLimits({});
    collectGarbage();
  });

  const spmmLimits = [
    { name: '2-D dispatch', limits: { maxWorkgroupsPerDimension: 2 } },
    { name: 'row chunks per dispatch', limits: { maxWorkgroupsPerDimension: 1 } },
    // 1 KiB bindings split output rows, indptr, entries and x's rows (the
    // matrix's column blocks, accumulated).
    {
      name: 'row, entry and column blocks',
      limits: { maxBindingBytes: 1024, maxWorkgroupsPerDimension: 1 },
    },
    { name: 'binding blocks only', limits: { maxBindingBytes: 2048 } },
  ];
  for (const { name, limits } of spmmLimits) {
    for (const F of [3, 8, 17]) {
      it(`spmm ${name}, F=${F}`, async () => {
        const rng = new SeededRandom(F);
        const m = randomMatrix(rng, 300, 70, 900, true);
        const x = rng.fillNormal(new Float32Array(m.numCols * F));
        const xt = tf.tensor2d(x, [m.numCols, F]);
        const expected = referenceSpmm(m.indptr, m.indices, m.values, x, F);
        const plain = spmm(m, xt);
        const plainValues = await read(plain);
        setWebGpuKernelLimits(limits);
        const tiled = spmm(m, xt);
        expectArraysClose(await read(tiled), expected, 1e-4, `tiled spmm ${name}`);
        expectArraysClose(plainValues, expected, 1e-4, 'untiled spmm');
        tf.dispose([xt, plain, tiled]);
      });
    }
  }

  const tiny = { maxBindingBytes: 1024, maxWorkgroupsPerDimension: 1 };
  const tilings = [
    { label: 'binding blocks, row chunks', limits: tiny },
    { label: '2-D dispatch', limits: { maxWorkgroupsPerDimension: 2 } },
  ];
  for (const { label, limits } of tilings) {
    for (const F of [3, 8, 17]) {
      it(`sddmm (${label}), F=${F}`, async () => {
        const rng = new SeededRandom(10 + F);
        const m = randomMatrix(rng, 60, 70, 900, false);
        const a = rng.fillNormal(new Float32Array(m.numRows * F));
        const bv = rng.fillNormal(new Float32Array(m.numCols * F));
        const expected = new Float64Array(m.nnz);
        for (let r = 0; r < m.numRows; r++) {
          for (let e = m.indptr[r]!; e < m.indptr[r + 1]!; e++) {
            for (let f = 0; f < F; f++) expected[e]! += a[r * F + f]! * bv[m.indices[e]! * F + f]!;
          }
        }
        const at = tf.tensor2d(a, [m.numRows, F]);
        const bt = tf.tensor2d(bv, [m.numCols, F]);
        setWebGpuKernelLimits(limits);
        const out = sddmm(m, at, bt);
        expectArraysClose(await read(out), expected, 1e-4, 'tiled sddmm');
        tf.dispose([at, bt, out]);
      });

      it(`segment sum and max (${label}), F=${F}`, async () => {
        const rng = new SeededRandom(20 + F);
        const rows = 300;
        const S = 40;
        const ids = Int32Array.from({ length: rows }, () => rng.int(S - 5)); // segments 35..39 stay empty
        const data = rng.fillNormal(new Float32Array(rows * F));
        const x = tf.tensor2d(data, [rows, F]);
        setWebGpuKernelLimits(limits);
        const sum = segmentSum(x, ids, S);
        const max = segmentMax(x, ids, S);
        expectArraysClose(
          await read(sum),
          referenceSegment('sum', data, ids, S, F),
          1e-4,
          'tiled segment sum',
        );
        expectArraysClose(
          await read(max),
          referenceSegment('max', data, ids, S, F),
          0,
          'tiled segment max',
        );
        tf.dispose([x, sum, max]);
      });
    }

    it(`topK (${label})`, async () => {
      const rng = new SeededRandom(30);
      const [rows, n, k] = [50, 40, 5];
      const data = rng.fillNormal(new Float32Array(rows * n));
      for (let r = 0; r < rows; r += 3) data[r * n + 7] = data[r * n + 2]!; // ties
      const x = tf.tensor2d(data, [rows, n]);
      setWebGpuKernelLimits(limits);
      const { values, indices } = topK(x, k);
      const ref = referenceTopK(data, rows, n, k);
      expectArraysClose(await read(values), ref.values, 0, 'tiled topK values');
      expectArraysClose(await read(indices), ref.indices, 0, 'tiled topK indices');
      tf.dispose([x, values, indices]);
    });
  }

  it('repeated tiled calls leak neither tensors nor GPU buffers', async () => {
    const rng = new SeededRandom(40);
    const m = randomMatrix(rng, 60, 70, 400, true);
    const x = tf.tensor2d(rng.fillNormal(new Float32Array(70 * 8)), [70, 8]);
    const a = tf.tensor2d(rng.fillNormal(new Float32Array(60 * 8)), [60, 8]);
    const ids = Int32Array.from({ length: 70 }, () => rng.int(50));
    setWebGpuKernelLimits(tiny);
    const step = async (): Promise<void> => {
      const outs = [
        spmm(m, x),
        sddmm(m, a, x),
        segmentSum(x, ids, 50),
        segmentMax(x, ids, 50),
        ...Object.values(topK(x, 3)),
      ];
      await Promise.all(outs.map((t) => t.data()));
      tf.dispose(outs);
    };
    await step(); // uploads the matrix's cached arrays
    const gpuBytes = (): number =>
      (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU ?? 0;
    const before = tf.memory().numTensors;
    const bytesBefore = gpuBytes();
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    expect(gpuBytes()).toBe(bytesBefore);
    tf.dispose([x, a]);
  });
});

describe.skipIf(skipReason !== undefined)('webgpu kernel edge cases', () => {
  beforeAll(ensureWebGpu);
  afterEach(collectGarbage);

  it('Sum and Mean of many values into few outputs (two passes) equal a float64 reference', async () => {
    expect(webGpuSplitReductionsActive()).toBe(true);
    const rng = new SeededRandom(21);
    // [outputs..., reduced...]: full reductions, trailing axes, keepDims, and
    // sizes with no slab divisor (tfjs' kernel unchanged).
    const cases: [number[], number | number[] | undefined, boolean][] = [
      [[300, 1024], undefined, false],
      [[4, 131072], 1, false],
      [[2, 3, 256, 512], [2, 3], true],
      [[65537], undefined, false],
      [[8, 70000], -1, true],
    ];
    for (const [shape, axis, keepDims] of cases) {
      const values = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
      const x = tf.tensor(values, shape);
      const axes = tf.util.parseAxisParam(axis ?? shape.map((_, i) => i), shape);
      const reduce = axes.reduce((n, a) => n * shape[a]!, 1);
      const want = new Float64Array(values.length / reduce);
      for (let i = 0; i < values.length; i++) want[Math.floor(i / reduce)]! += values[i]!;
      const sum = tf.sum(x, axis, keepDims);
      const mean = tf.mean(x, axis, keepDims);
      const outShape = keepDims
        ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : shape.filter((_, i) => !axes.includes(i));
      expect(sum.shape).toEqual(outShape);
      const tol = 1e-3 * Math.sqrt(reduce);
      expectArraysClose(await read(sum), Array.from(want), tol, `sum ${shape} axis ${axis}`);
      expectArraysClose(
        await read(mean),
        Array.from(want, (v) => v / reduce),
        tol / reduce,
        `mean ${shape} axis ${axis}`,
      );
      tf.dispose([x, sum, mean]);
    }
  });

  it('segment kernels skip out-of-range ids given as a tensor', async () => {
    const data = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const ids = tf.tensor1d([0, -1, 2, 1000], 'int32');
    const sum = segmentSum(data, ids, 3);
    const max = segmentMax(data, ids, 3);
    expectArraysClose(await read(sum), [1, 2, 0, 0, 5, 6], 0, 'segment sum, bad ids');
    expectArraysClose(await read(max), [1, 2, 0, 0, 5, 6], 0, 'segment max, bad ids');
    tf.dispose([data, ids, sum, max]);
  });

  it('segment max propagates NaN, handles -Infinity and gives 0 for empty segments', async () => {
    const data = tf.tensor2d([Number.NaN, -3, 1, Number.NEGATIVE_INFINITY, -0.5, -2], [3, 2]);
    const max = segmentMax(data, Int32Array.from([0, 0, 2]), 4);
    expectArraysClose(
      await read(max),
      [Number.NaN, -3, 0, 0, -0.5, -2, 0, 0],
      0,
      'segment max NaN',
    );
    const inf = tf.tensor2d([Number.NEGATIVE_INFINITY], [1, 1]);
    const maxInf = segmentMax(inf, Int32Array.from([1]), 2);
    expect(Array.from(await read(maxInf))).toEqual([0, Number.NEGATIVE_INFINITY]);
    tf.dispose([data, max, inf, maxInf]);
  });

  it('topK is correct for long rows and k = n, with NaN ranked first', async () => {
    const rng = new SeededRandom(50);
    const [rows, n] = [3, 700];
    const data = rng.fillNormal(new Float32Array(rows * n));
    data.set([data[10]!, data[10]!], 600); // ties with a lower index
    const x = tf.tensor2d(data, [rows, n]);
    for (const k of [10, n]) {
      const { values, indices } = topK(x, k);
      const ref = referenceTopK(data, rows, n, k);
      expectArraysClose(await read(values), ref.values, 0, `topK n=${n} k=${k} values`);
      expectArraysClose(await read(indices), ref.indices, 0, `topK n=${n} k=${k} indices`);
      tf.dispose([values, indices]);
    }
    const withNaN = tf.tensor2d([1, Number.NaN, 3, 3, Number.NaN], [1, 5]);
    const { values, indices } = topK(withNaN, 4);
    expectArraysClose(await read(values), [Number.NaN, Number.NaN, 3, 3], 0, 'topK NaN values');
    expectArraysClose(await read(indices), [1, 4, 2, 3], 0, 'topK NaN indices');
    tf.dispose([x, withNaN, values, indices]);
  });

  it('topK works on rank-3 input', async () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 11);
    const x = tf.tensor3d(data, [2, 3, 4]);
    const { values, indices } = topK(x, 2);
    expect(values.shape).toEqual([2, 3, 2]);
    const ref = referenceTopK(data, 6, 4, 2);
    expectArraysClose(await read(values), ref.values, 0, 'rank-3 topK values');
    expectArraysClose(await read(indices), ref.indices, 0, 'rank-3 topK indices');
    tf.dispose([x, values, indices]);
  });
});
