import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { AdamW } from '../src/model/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** torch.optim.AdamW's update, written out in float64. */
function reference(
  p: number[],
  grads: number[][],
  lr: number,
  wd: number,
  decay: boolean,
): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = p.slice();
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < x.length; i++) {
      if (decay) x[i] = x[i]! * (1 - lr * wd);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      x[i] = x[i]! - (lr * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
    }
  });
  return x;
}

it('matches torch.optim.AdamW (decay on matrices only) and restores its state', () => {
  const before = tf.memory().numTensors;
  const init = { w: [0.5, -1, 2, 0.25], b: [1, -2] };
  const params = new Map<string, tf.Variable>([
    ['w', tf.tidy(() => tf.variable(tf.tensor2d(init.w, [2, 2])))],
    ['b', tf.tidy(() => tf.variable(tf.tensor1d(init.b)))],
  ]);
  const gw = [
    [0.1, -0.2, 0.3, 0.05],
    [-0.3, 0.1, 0.2, 0.4],
    [0.2, 0.2, -0.1, 0],
  ];
  const gb = [
    [1, -1],
    [0.5, 0.25],
    [-2, 0],
  ];
  const opt = new AdamW(params, { lr: 0.05, weightDecay: 0.1 });
  for (let s = 0; s < 3; s++) {
    const g = new Map<string, tf.Tensor>([
      ['w', tf.tensor2d(gw[s]!, [2, 2])],
      ['b', tf.tensor1d(gb[s]!)],
    ]);
    opt.step(g);
    tf.dispose([...g.values()]);
  }
  const w = Array.from(params.get('w')!.dataSync());
  const b = Array.from(params.get('b')!.dataSync());
  // PyTorch applies the decay before the Adam step: p·(1 − lr·wd) − lr·m̂/(√v̂ + eps).
  for (const [i, x] of reference(init.w, gw, 0.05, 0.1, true).entries())
    expect(w[i]).toBeCloseTo(x, 5);
  for (const [i, x] of reference(init.b, gb, 0.05, 0.1, false).entries())
    expect(b[i]).toBeCloseTo(x, 5);
  const state = opt.state();
  expect(state.step).toBe(3);
  const copy = new AdamW(params, { lr: 0.05 });
  const host = (m: ReadonlyMap<string, tf.Variable>) =>
    new Map([...m].map(([k, t]) => [k, t.dataSync() as Float32Array]));
  copy.setState(3, host(state.m), host(state.v));
  expect(copy.state().m.get('w')!.dataSync()).toEqual(state.m.get('w')!.dataSync());
  opt.dispose();
  copy.dispose();
  for (const p of params.values()) p.dispose();
  expect(tf.memory().numTensors).toBe(before);
});
