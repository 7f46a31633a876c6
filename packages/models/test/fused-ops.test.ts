import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { causalAttention } from '../src/model/attention.js';
import { linearCat } from '../src/model/fused/linear.js';
import { residualAdd } from '../src/model/fused/residual.js';
import { rmsNorm } from '../src/model/fused/rms-norm.js';
import { qkvRopeTables, rotateQK } from '../src/model/fused/rope.js';
import { swiglu } from '../src/model/fused/swiglu.js';
import {
  batchMatmul,
  crossEntropy,
  gatherRows,
  ropeTables,
  splitColumns,
} from '../src/model/ops.js';

// Each fused op against the plain tfjs chain it replaces (values) and its
// hand-written gradient against central finite differences of a weighted
// sum of its output, on both host backends.

const rng = new SeededRandom(3);
const randn = (size: number) => Float32Array.from({ length: size }, () => rng.normal());

/** `Σ out ⊙ R` for a fixed random `R`, so every output entry matters. */
function weightedSum(out: tf.Tensor, r: Float32Array): tf.Scalar {
  return tf.sum(tf.mul(out, tf.tensor(r, out.shape))) as tf.Scalar;
}

/**
 * Check every input's analytic gradient of `f` at every coordinate (three
 * random ones without `every`) against central differences; `inputs` are host arrays with shapes, and
 * `asVariable` marks the ones passed as `tf.Variable`s (as model weights are).
 */
function checkGradients(
  f: (xs: tf.Tensor[]) => tf.Tensor,
  inputs: { values: Float32Array; shape: number[]; asVariable?: boolean }[],
  every = true,
): void {
  const outSize = tf.tidy(() => f(inputs.map((x) => tf.tensor(x.values, x.shape))).size);
  const r = randn(outSize);
  const lossAt = (vals: Float32Array[]): number =>
    tf.tidy(
      () => weightedSum(f(vals.map((v, i) => tf.tensor(v, inputs[i]!.shape))), r).dataSync()[0]!,
    );
  const vars = inputs.map((x) =>
    x.asVariable
      ? tf.tidy(() => tf.variable(tf.tensor(x.values, x.shape)))
      : tf.tensor(x.values, x.shape),
  );
  const { grads } = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => weightedSum(f(xs), r))(vars);
    value.dispose();
    return { grads: grads.map((g) => g.dataSync().slice() as Float32Array) };
  });
  tf.dispose(vars);
  const eps = 1e-2;
  inputs.forEach((x, k) => {
    const coords = every
      ? Array.from(x.values, (_, i) => i)
      : Array.from({ length: 3 }, () => rng.int(x.values.length));
    for (const i of coords) {
      const vals = inputs.map((y) => y.values.slice());
      vals[k]![i] = x.values[i]! + eps;
      const up = lossAt(vals);
      vals[k]![i] = x.values[i]! - eps;
      const down = lossAt(vals);
      const numeric = (up - down) / (2 * eps);
      const analytic = grads[k]![i]!;
      expect(
        Math.abs(numeric - analytic),
        `input ${k}[${i}]: ${numeric} vs ${analytic}`,
      ).toBeLessThan(2e-3 + 0.02 * Math.abs(numeric));
    }
  });
}

function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++)
    expect(Math.abs(x[i]! - y[i]!), `at ${i}`).toBeLessThanOrEqual(tol * (1 + Math.abs(y[i]!)));
}

describe.each(['cpu', 'wasm'] as const)('fused ops on %s', (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('rmsNorm: values and gradients (weight as variable and as tensor)', () => {
    const before = tf.memory().numTensors;
    const x = { values: randn(5 * 6), shape: [5, 6] };
    const w = { values: randn(6), shape: [6] };
    tf.tidy(() => {
      const xt = tf.tensor2d(x.values, [5, 6]);
      const wt = tf.tensor1d(w.values);
      const ref = tf.mul(tf.mul(xt, tf.rsqrt(tf.add(tf.mean(tf.square(xt), -1, true), 1e-5))), wt);
      expectClose(rmsNorm(xt, wt, 1e-5), ref);
    });
    const f = ([a, b]: tf.Tensor[]) => rmsNorm(a as tf.Tensor2D, b!, 1e-5);
    checkGradients(f, [x, w]);
    checkGradients(f, [x, { ...w, asVariable: true }]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('swiglu: values and gradients', () => {
    const before = tf.memory().numTensors;
    const g = { values: randn(4 * 5), shape: [4, 5] };
    const u = { values: randn(4 * 5), shape: [4, 5] };
    tf.tidy(() => {
      const gt = tf.tensor2d(g.values, [4, 5]);
      const ut = tf.tensor2d(u.values, [4, 5]);
      expectClose(swiglu(gt, ut), tf.mul(tf.mul(gt, tf.sigmoid(gt)), ut));
    });
    checkGradients(([a, b]) => swiglu(a as tf.Tensor2D, b as tf.Tensor2D), [g, u]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('linearCat: values and gradients for one variable weight and three tensor weights', () => {
    const before = tf.memory().numTensors;
    const x = { values: randn(4 * 3), shape: [4, 3] };
    const ws = [2, 5, 1].map((o) => ({ values: randn(o * 3), shape: [o, 3] }));
    tf.tidy(() => {
      const xt = tf.tensor2d(x.values, [4, 3]);
      const wt = ws.map((w) => tf.tensor2d(w.values, w.shape as [number, number]));
      expectClose(linearCat(xt, wt), tf.matMul(xt, tf.concat(wt, 0), false, true));
    });
    checkGradients(
      ([a, b]) => linearCat(a as tf.Tensor2D, [b!]),
      [x, { ...ws[1]!, asVariable: true }],
    );
    checkGradients(([a, ...b]) => linearCat(a as tf.Tensor2D, b), [x, ...ws]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rotateQK: HF rotate_half rotation of the Q and K heads, V unchanged, and gradients', () => {
    const before = tf.memory().numTensors;
    const [n, d, rotated, plain] = [3, 4, 3, 1];
    const W = (rotated + plain) * d;
    const x = { values: randn(n * W), shape: [n, W] };
    const rope = ropeTables(Int32Array.from([0, 5, 2]), d, 10000);
    const host = qkvRopeTables(rope.cos, rope.sin, n, d, rotated, plain);
    // Plain reference: q·cos + rotate_half(q)·sin per head, rotate_half(q) = [−q₂, q₁].
    const expected = new Float32Array(n * W);
    for (let i = 0; i < n; i++)
      for (let h = 0; h < rotated + plain; h++)
        for (let e = 0; e < d; e++) {
          const o = i * W + h * d;
          const xv = x.values[o + e]!;
          if (h >= rotated) expected[o + e] = xv;
          else {
            const rot = e < d / 2 ? -x.values[o + e + d / 2]! : x.values[o + e - d / 2]!;
            expected[o + e] = xv * rope.cos[i * d + e]! + rot * rope.sin[i * d + e]!;
          }
        }
    const f = ([a]: tf.Tensor[]) => {
      const tables = {
        cos: tf.tensor2d(host.cos, [n, W]),
        sin: tf.tensor2d(host.sin, [n, W]),
        cosHost: host.cos,
        sinHost: host.sin,
      };
      return rotateQK(a as tf.Tensor2D, tables, d);
    };
    tf.tidy(() => expectClose(f([tf.tensor2d(x.values, [n, W])]), tf.tensor2d(expected, [n, W])));
    checkGradients(f, [x]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('causalAttention (masked softmax gradient): gradients of Q, K and V', () => {
    const before = tf.memory().numTensors;
    const [B, T, H, kvH, d] = [2, 3, 4, 2, 2];
    checkGradients(
      ([q, k, v]) => causalAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, B, T),
      [
        { values: randn(B * T * H * d), shape: [B * T, H, d] },
        { values: randn(B * T * kvH * d), shape: [B * T, kvH, d] },
        { values: randn(B * T * kvH * d), shape: [B * T, kvH, d] },
      ],
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('crossEntropy: mean NLL over counted targets (negative ignored) and gradients', () => {
    const before = tf.memory().numTensors;
    const [n, V] = [5, 7];
    const logits = { values: randn(n * V), shape: [n, V] };
    const targets = Int32Array.from([3, -1, 0, 6, -100]);
    // Plain reference in float64.
    let total = 0;
    for (let r = 0; r < n; r++) {
      if (targets[r]! < 0) continue;
      const row = Array.from(logits.values.subarray(r * V, (r + 1) * V));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      total += lse - row[targets[r]!]!;
    }
    const got = tf.tidy(
      () => crossEntropy(tf.tensor2d(logits.values, [n, V]), targets).dataSync()[0]!,
    );
    expect(got).toBeCloseTo(total / 3, 5);
    checkGradients(([x]) => crossEntropy(x as tf.Tensor2D, targets), [logits]);
    expect(
      tf.tidy(() => crossEntropy(tf.zeros([2, 3]), Int32Array.from([-1, -1])).dataSync()[0]),
    ).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('residualAdd: values and gradients, including an input used twice', () => {
    const before = tf.memory().numTensors;
    const a = { values: randn(3 * 4), shape: [3, 4] };
    const b = { values: randn(3 * 4), shape: [3, 4] };
    tf.tidy(() => {
      const [at, bt] = [tf.tensor2d(a.values, [3, 4]), tf.tensor2d(b.values, [3, 4])];
      expectClose(residualAdd(at, bt), tf.add(at, bt), 0);
    });
    checkGradients(
      ([x, y]) => {
        const h = residualAdd(x as tf.Tensor2D, y as tf.Tensor2D);
        return residualAdd(h, tf.mul(h, x!) as tf.Tensor2D);
      },
      [a, b],
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('host copies: splitColumns, gatherRows and batchMatmul equal tfjs slice, gather and matMul', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor2d(randn(4 * 7), [4, 7]);
      const parts = splitColumns(x, [2, 4, 1]);
      expectClose(parts[1]!, tf.slice(x, [0, 2], [4, 4]), 0);
      const idx = Int32Array.from([3, 0, 3, 1]);
      expectClose(gatherRows(x, idx), tf.gather(x, tf.tensor1d(idx, 'int32')), 0);
      const a = tf.tensor3d(randn(3 * 4 * 5), [3, 4, 5]);
      const b = tf.tensor3d(randn(3 * 5 * 2), [3, 5, 2]);
      expectClose(batchMatmul(a, b), tf.matMul(a, b), 1e-5);
    });
    checkGradients(
      ([a, b]) => batchMatmul(a as tf.Tensor3D, b as tf.Tensor3D),
      [
        { values: randn(2 * 3 * 4), shape: [2, 3, 4] },
        { values: randn(2 * 4 * 2), shape: [2, 4, 2] },
      ],
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
