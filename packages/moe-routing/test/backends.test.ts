import { initBackend } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { MoEConfig } from '../src/index.js';
import { createTopKRouter, disposeParams, initMoEParams, moeForward } from '../src/index.js';
import { seededMatrix } from './helpers.js';

async function run(backend: 'cpu' | 'wasm', config: MoEConfig) {
  await initBackend({ backend });
  const params = initMoEParams(config, 4);
  const x = tf.tensor2d(seededMatrix(12, 8, 5), [12, 8]);
  const before = tf.memory().numTensors;
  const { output, grad } = tf.tidy(() => {
    const r = moeForward(config, params, x);
    const g = tf.grad((w) => tf.sum(moeForward(config, { ...params, routerWeight: w }, x).output))(
      params.routerWeight,
    );
    return { output: r.output.dataSync().slice(), grad: g.dataSync().slice() };
  });
  expect(tf.memory().numTensors).toBe(before);
  x.dispose();
  disposeParams(params);
  return { output, grad };
}

describe('cpu and wasm agree', () => {
  for (const [activation, dispatch] of [
    ['gelu', 'dropless'],
    ['swiglu', 'capacity'],
  ] as const) {
    it(`${activation} experts, ${dispatch} dispatch: output and router gradient`, async () => {
      const config: MoEConfig = {
        modelDim: 8,
        hiddenDim: 16,
        activation,
        router: createTopKRouter({ numExperts: 4, k: 2 }),
        dispatch,
        capacityFactor: 1,
      };
      const cpu = await run('cpu', config);
      const wasm = await run('wasm', config);
      expectArraysClose(wasm.output, cpu.output, 1e-4);
      expectArraysClose(wasm.grad, cpu.grad, 1e-3);
    });
  }
});
