import * as tf from '@tensorflow/tfjs-core';
import { CsrMatrix } from '../csr/csr-matrix.js';
import { PlexusTensorError } from '../errors.js';
import { sddmm } from '../ops/sddmm.js';
import { segmentMax, segmentMean, segmentSoftmax, segmentSum } from '../ops/segment.js';
import { spmm } from '../ops/spmm.js';
import { topK } from '../ops/top-k.js';
import { SeededRandom } from '../random.js';
import { expectArraysClose } from './expect-close.js';
import { finiteDifferenceGradient } from './finite-difference.js';
import { graphCases } from './graph-cases.js';
import {
  referenceSegment,
  referenceSegmentSoftmax,
  referenceSpmm,
  referenceTopK,
} from './reference.js';

/** One backend-independent check; `run` throws on any mismatch. */
export interface ConformanceCase {
  readonly name: string;
  readonly run: () => Promise<void>;
}

/** Options of {@link kernelConformanceCases}. */
export interface ConformanceOptions {
  /** Size multiplier for the random cases (1 = small enough for a software GPU). */
  readonly scale?: number;
  readonly seed?: number;
}

const read = async (t: tf.Tensor): Promise<Float32Array | Int32Array> =>
  (await t.data()) as Float32Array | Int32Array;

/** Dot of two arrays in float64, the loss every gradient check differentiates. */
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Compare `tf.grads` of `sum(op(inputs) * probe)` with finite differences of the reference. */
async function checkGrads(
  label: string,
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: Float32Array[]) => ArrayLike<number>,
  inputs: tf.Tensor[],
  rng: SeededRandom,
  tol = 2e-3,
): Promise<void> {
  const outShape = tf.tidy(() => op(...inputs).shape);
  const size = outShape.reduce((a, d) => a * d, 1);
  const probe = rng.fillUniform(new Float32Array(size), -1, 1);
  const probeT = tf.tensor(probe, outShape);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), probeT)))(inputs);
  const hostInputs = await Promise.all(inputs.map(async (t) => Float32Array.from(await read(t))));
  for (let i = 0; i < inputs.length; i++) {
    const fd = finiteDifferenceGradient(
      (xi) => {
        const args = hostInputs.map((h, j) => (j === i ? xi : h));
        return dot(reference(...args), probe);
      },
      hostInputs[i]!,
      1e-3,
    );
    expectArraysClose(await read(grads[i]!), fd, tol, `${label} gradient of input ${i}`);
  }
  tf.dispose([probeT, ...grads]);
}

function expectThrows(label: string, fn: () => unknown, pattern: RegExp): void {
  try {
    tf.dispose(fn() as tf.Tensor);
  } catch (error) {
    if (!PlexusTensorError.isInstance(error) || !pattern.test(error.message)) {
      throw new PlexusTensorError('testing', `${label}: wrong error ${String(error)}`);
    }
    return;
  }
  throw new PlexusTensorError('testing', `${label}: expected an error matching ${pattern}`);
}

/**
 * The kernel conformance suite: every backend implementation of Plexus's
 * kernels must pass these on the active backend. Values are compared with
 * plain-JS references, gradients with finite differences.
 */
export function kernelConformanceCases(options: ConformanceOptions = {}): ConformanceCase[] {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? 1;
  const cases: ConformanceCase[] = [];
  for (const g of graphCases(seed, scale)) {
    const m = g.matrix;
    for (const F of [1, 3, 17]) {
      cases.push({
        name: `spmm forward: ${g.name}, F=${F}`,
        run: async () => {
          const rng = new SeededRandom(seed + F);
          const x = rng.fillNormal(new Float32Array(m.numCols * F));
          const out = tf.tidy(() => spmm(m, tf.tensor2d(x, [m.numCols, F])));
          expect(
            await read(out),
            referenceSpmm(m.indptr, m.indices, m.values, x, F),
            `spmm ${g.name}`,
          );
          out.dispose();
        },
      });
    }
    if (m.nnz > 0) {
      cases.push({
        name: `spmm gradients (x, weights): ${g.name}`,
        run: async () => {
          const rng = new SeededRandom(seed);
          const F = 4;
          const x = tf.tensor2d(rng.fillNormal(new Float32Array(m.numCols * F)), [m.numCols, F]);
          const w = tf.tensor1d(rng.fillNormal(new Float32Array(m.nnz)));
          await checkGrads(
            `spmm ${g.name}`,
            (xi, wi) => spmm(m, xi as tf.Tensor2D, { weights: wi as tf.Tensor1D }),
            (xh, wh) => referenceSpmm(m.indptr, m.indices, wh, xh!, F),
            [x, w],
            rng,
          );
          // Constant weights: same value, same gradient for x, no weight gradient computed.
          const gx = tf.grad((xi: tf.Tensor) =>
            tf.sum(tf.square(spmm(m, xi as tf.Tensor2D, { weights: w }))),
          );
          const gc = tf.grad((xi: tf.Tensor) =>
            tf.sum(
              tf.square(spmm(m, xi as tf.Tensor2D, { weights: w, weightsRequireGrad: false })),
            ),
          );
          const [a, b] = [gx(x), gc(x)];
          expect(await read(b), await read(a), 'spmm constant-weights gradient');
          tf.dispose([x, w, a, b]);
        },
      });
      cases.push({
        name: `sddmm forward and gradients: ${g.name}`,
        run: async () => {
          const rng = new SeededRandom(seed + 3);
          const F = 5;
          const a = tf.tensor2d(rng.fillNormal(new Float32Array(m.numRows * F)), [m.numRows, F]);
          const b = tf.tensor2d(rng.fillNormal(new Float32Array(m.numCols * F)), [m.numCols, F]);
          const refSddmm = (ah: Float32Array, bh: Float32Array): Float64Array => {
            const out = new Float64Array(m.nnz);
            for (let r = 0; r < m.numRows; r++) {
              for (let e = m.indptr[r]!; e < m.indptr[r + 1]!; e++) {
                for (let f = 0; f < F; f++) out[e]! += ah[r * F + f]! * bh[m.indices[e]! * F + f]!;
              }
            }
            return out;
          };
          const out = sddmm(m, a, b);
          expect(
            await read(out),
            refSddmm((await read(a)) as Float32Array, (await read(b)) as Float32Array),
            'sddmm',
          );
          await checkGrads(
            'sddmm',
            (ai, bi) => sddmm(m, ai as tf.Tensor2D, bi as tf.Tensor2D),
            (ah, bh) => refSddmm(ah!, bh!),
            [a, b],
            rng,
          );
          tf.dispose([a, b, out]);
        },
      });
    }
  }
  cases.push(...segmentCases(seed, scale), ...topKCases(seed), ...errorCases());
  return cases;
}

function expect(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  tol = 1e-4,
): void {
  expectArraysClose(actual, expected, tol, label);
}

function segmentCases(seed: number, scale: number): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const shapes: Array<{ name: string; rows: number; segments: number; F: number }> = [
    { name: 'no rows', rows: 0, segments: 3, F: 2 },
    { name: 'no rows, no segments', rows: 0, segments: 0, F: 2 },
    { name: 'one row', rows: 1, segments: 1, F: 1 },
    { name: 'empty segments', rows: 6, segments: 10, F: 3 },
    { name: 'random', rows: 80 * scale, segments: 9, F: 5 },
  ];
  const ops = {
    sum: segmentSum,
    mean: segmentMean,
    max: segmentMax,
  } as const;
  for (const s of shapes) {
    for (const kind of ['sum', 'mean', 'max', 'softmax'] as const) {
      cases.push({
        name: `segment ${kind} forward and gradient: ${s.name} (${s.rows} rows, ${s.segments} segments, F=${s.F})`,
        run: async () => {
          const rng = new SeededRandom(seed + s.rows);
          const ids = Int32Array.from({ length: s.rows }, () => rng.int(s.segments));
          if (s.name === 'empty segments') ids.fill(2).set([7], 0);
          // For max, values are distinct levels 0.05 apart, so a finite-difference
          // step (1e-3) never swaps which entry is the maximum.
          const data =
            kind === 'max'
              ? Float32Array.from(
                  rng.shuffle(Array.from({ length: s.rows * s.F }, (_, i) => i * 0.05 - 1)),
                )
              : rng.fillNormal(new Float32Array(s.rows * s.F));
          const x = tf.tensor2d(data, [s.rows, s.F]);
          const op = (xi: tf.Tensor): tf.Tensor =>
            kind === 'softmax'
              ? segmentSoftmax(xi as tf.Tensor2D, ids, s.segments)
              : ops[kind](xi as tf.Tensor2D, ids, s.segments);
          const ref = (xh: Float32Array): ArrayLike<number> =>
            kind === 'softmax'
              ? referenceSegmentSoftmax(xh, ids, s.segments, s.F)
              : referenceSegment(kind, xh, ids, s.segments, s.F);
          const out = op(x);
          const shape = [kind === 'softmax' ? s.rows : s.segments, s.F];
          if (out.shape.join() !== shape.join()) {
            throw new PlexusTensorError(
              'testing',
              `segment ${kind}: shape [${out.shape.join(', ')}], expected [${shape.join(', ')}]`,
            );
          }
          expect(await read(out), ref(data), `segment ${kind}`);
          if (s.rows > 0) await checkGrads(`segment ${kind}`, op, (xh) => ref(xh!), [x], rng);
          // 1-D data takes the same path with F = 1.
          const x1 = tf.tensor1d(data.subarray(0, s.rows));
          const out1 =
            kind === 'softmax'
              ? segmentSoftmax(x1, ids, s.segments)
              : ops[kind](x1, ids, s.segments);
          const strided = Float32Array.from({ length: s.rows }, (_, i) => data[i]!);
          const ref1 =
            kind === 'softmax'
              ? referenceSegmentSoftmax(strided, ids, s.segments, 1)
              : referenceSegment(kind, strided, ids, s.segments, 1);
          expect(await read(out1), ref1, `segment ${kind} 1-D`);
          tf.dispose([x, out, x1, out1]);
        },
      });
    }
  }
  return cases;
}

function topKCases(seed: number): ConformanceCase[] {
  return [
    [1, 5, 1],
    [7, 8, 2],
    [33, 64, 8],
    [4, 6, 6],
    [3, 4, 0],
  ].map(([rows, n, k]) => ({
    name: `topK rows=${rows} n=${n} k=${k}`,
    run: async () => {
      const rng = new SeededRandom(seed + rows! * n!);
      const data = rng.fillNormal(new Float32Array(rows! * n!));
      if (n! > 3) data[1] = data[2]!; // a tie: the lower index must come first
      const x = tf.tensor2d(data, [rows!, n!]);
      const { values, indices } = topK(x, k!);
      const ref = referenceTopK(data, rows!, n!, k!);
      expect(await read(values), ref.values, 'topK values', 1e-6);
      expectArraysClose(await read(indices), ref.indices, 0, 'topK indices');
      // Finite differences are meaningless at a tie, so the gradient is checked on tie-free data.
      // Rows are shuffled, well-separated levels, so a finite-difference step never reorders them.
      const levels = Float32Array.from({ length: rows! * n! }, (_, i) => (i % n!) * 0.1);
      for (let r = 0; r < rows!; r++) {
        const row = rng.shuffle(Array.from(levels.subarray(r * n!, (r + 1) * n!)));
        levels.set(row, r * n!);
      }
      const smooth = tf.tensor2d(levels, [rows!, n!]);
      if (k! > 0) {
        await checkGrads(
          'topK',
          (xi) => topK(xi, k!).values,
          (xh) => referenceTopK(xh!, rows!, n!, k!).values,
          [smooth],
          rng,
        );
      }
      tf.dispose([x, smooth, values, indices]);
    },
  }));
}

function errorCases(): ConformanceCase[] {
  const m = CsrMatrix.fromCoo([0, 1], [1, 2], [2, 3]);
  return [
    {
      name: 'bad input throws clear errors before any kernel runs',
      run: async () => {
        const x = tf.zeros([3, 2]) as tf.Tensor2D;
        const xi = tf.zeros([3, 2], 'int32') as tf.Tensor2D;
        const wrongRows = tf.zeros([4, 2]) as tf.Tensor2D;
        expectThrows(
          'spmm rows',
          () => spmm(m, wrongRows),
          /x must have one row per matrix column/,
        );
        expectThrows('spmm dtype', () => spmm(m, xi), /dtype float32/);
        expectThrows(
          'spmm weights',
          () => spmm(m, x, { weights: tf.zeros([5]) as tf.Tensor1D }),
          /one entry per stored entry/,
        );
        expectThrows(
          'segment range',
          () => segmentSum(x, Int32Array.from([0, 3, 1]), 2),
          /out of range \[0, 2\)/,
        );
        expectThrows(
          'segment length',
          () => segmentSum(x, Int32Array.from([0, 1]), 2),
          /one id per data row/,
        );
        expectThrows('topK k', () => topK(x, 3), /k must be an integer in \[0, 2\]/);
        expectThrows(
          'csr index',
          () =>
            CsrMatrix.fromArrays({
              indptr: Int32Array.from([0, 1]),
              indices: Int32Array.from([5]),
              numCols: 2,
            }),
          /out of range/,
        );
        tf.dispose([x, xi, wrongRows]);
      },
    },
    {
      name: 'repeated forward and backward passes leak no tensors',
      run: async () => {
        const x = tf.ones([3, 2]) as tf.Tensor2D;
        const w = tf.ones([2]) as tf.Tensor1D;
        const ids = Int32Array.from([0, 1, 1]);
        const step = (): void => {
          const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor) =>
            tf.add(
              tf.sum(spmm(m, xi as tf.Tensor2D, { weights: wi as tf.Tensor1D })),
              tf.add(tf.sum(segmentSoftmax(xi as tf.Tensor2D, ids, 2)), tf.sum(topK(xi, 1).values)),
            ),
          )([x, w]);
          tf.dispose(g);
        };
        step(); // the first call uploads the matrix's cached arrays
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) step();
        const after = tf.memory().numTensors;
        if (after !== before)
          throw new PlexusTensorError('testing', `tensor count grew from ${before} to ${after}`);
        tf.dispose([x, w]);
      },
    },
  ];
}
