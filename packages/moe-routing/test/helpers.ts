import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import type { RouterInput, Routing } from '../src/routers/types.js';

/** Initialise the cpu backend once per test file. */
export async function setupCpu(): Promise<void> {
  await initBackend({ backend: 'cpu' });
}

/** Normal `[rows, cols]` values from a seed, scaled. */
export function seededMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  return new SeededRandom(seed).fillNormal(new Float32Array(rows * cols), 0, scale);
}

/**
 * Logits whose entries in each row are a permutation of well-separated
 * levels (gap `gap`), so a finite-difference step never changes a top-k.
 */
export function separatedLogits(rows: number, cols: number, seed: number, gap = 0.7): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const levels = rng.shuffle(Array.from({ length: cols }, (_, i) => i * gap));
    for (let c = 0; c < cols; c++) out[r * cols + c] = levels[c]! + 0.05 * rng.uniform();
  }
  return out;
}

function routingKey(r: Routing): string {
  return `${Array.from(r.tokenIndex)}|${Array.from(r.expertIndex)}`;
}

/**
 * Check d/dlogits of `Σ_a w_a · gate_a` against central differences. `route`
 * must be deterministic for a given input (recreate seeded routers inside).
 * Throws if a probe changes the routing, so a crossed top-k boundary shows.
 */
export function checkRouterGradient(
  route: (input: RouterInput) => Routing,
  logits: Float32Array,
  shape: [number, number],
  extra: Omit<RouterInput, 'logits'> = {},
  tol = 2e-2,
): void {
  const input = tf.tensor2d(logits, shape);
  const base = route({ ...extra, logits: input });
  input.dispose();
  const key = routingKey(base);
  const weights = new SeededRandom(99).fillNormal(new Float32Array(base.tokenIndex.length));
  base.gates.dispose();
  base.probs.dispose();
  const objective = (l: tf.Tensor): tf.Scalar => {
    const r = route({ ...extra, logits: l as tf.Tensor2D });
    const value = tf.sum(tf.mul(r.gates, tf.tensor1d(weights))) as tf.Scalar;
    return value;
  };
  const analytic = tf.tidy(() => tf.grad(objective)(tf.tensor2d(logits, shape)).dataSync());
  const numeric = finiteDifferenceGradient(
    (x) =>
      tf.tidy(() => {
        const r = route({ ...extra, logits: tf.tensor2d(x, shape) });
        if (routingKey(r) !== key) throw new Error('finite-difference probe changed the routing');
        return tf.sum(tf.mul(r.gates, tf.tensor1d(weights))).dataSync()[0]!;
      }),
    logits,
    1e-2,
  );
  expectArraysClose(analytic, numeric, tol, 'router gradient');
}
