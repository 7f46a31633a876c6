import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init-backend.js';
import { randomNormalTensor, SeededRandom } from '../random.js';
import { reductionGradConfigs } from './reduction-grads.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const random = (rows: number, cols: number, seed: number) =>
  randomNormalTensor([rows, cols], new SeededRandom(seed)) as tf.Tensor2D;

describe('Sum and Mean gradients (broadcast on the device)', () => {
  it("replace tfjs' own once the backend is initialised", () => {
    expect(tf.getGradient('Sum')?.gradFunc).toBe(reductionGradConfigs[0]!.gradFunc);
    expect(tf.getGradient('Mean')?.gradFunc).toBe(reductionGradConfigs[1]!.gradFunc);
  });

  it('equal the analytic gradients over every axis choice, and leak nothing', () => {
    const x = random(5, 7, 9);
    const w = random(5, 7, 10);
    const before = tf.memory().numTensors;
    for (const axis of [undefined, 0, 1, [0, 1], -1] as const) {
      const sumGrad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.sum(v, axis as never, true), 1)))(
        x,
      );
      const meanGrad = tf.grad((v: tf.Tensor) =>
        tf.sum(tf.mul(tf.mean(tf.mul(v, w), axis as never), 3)),
      )(x);
      const reduced = axis === undefined || Array.isArray(axis) ? 35 : axis === 0 ? 5 : 7;
      expect(Array.from(sumGrad.dataSync())).toEqual(new Array(35).fill(1));
      const want = (w.dataSync() as Float32Array).map((v) => (3 * v) / reduced);
      const got = meanGrad.dataSync();
      for (let i = 0; i < 35; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
      tf.dispose([sumGrad, meanGrad]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});
