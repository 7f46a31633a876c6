import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyThresholding,
  classifierFreeGuidance,
  createDpmSolverPlusPlus,
  createEdmModel,
  createVeModel,
  createVpModel,
  type Denoiser,
  DiscreteVpSchedule,
  type ModelSpec,
  vpGrid,
} from '../src/index.js';
import { oracleNetwork } from './helpers.js';
import { allNoises, DIM } from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const alpha = (s: number) => 1 / Math.sqrt(1 + s * s);
let noise: tf.Tensor;

beforeAll(async () => {
  await cpuBackend();
  noise = tf.tensor(Float32Array.from(allNoises().subarray(0, 128 * DIM)), [128, DIM]);
});

async function sample(model: ModelSpec, denoise: Denoiser, z = noise): Promise<Float32Array> {
  const grid = vpGrid(schedule, 12, { spacing: 'karras' });
  const out = await createDpmSolverPlusPlus().sample({ denoise, model, grid, noise: z });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('prediction types and parameterisations give the same trajectory', () => {
  // The same exact oracle seen through each network convention.
  const vpInput = (s: number) => 1 / alpha(s);
  const epsNet = oracleNetwork(vpInput, (_x, e) => e);
  let base: Float32Array;
  beforeAll(async () => {
    base = await sample(createVpModel({ schedule }), epsNet);
  });

  it('v prediction', async () => {
    const vNet = oracleNetwork(vpInput, (x, e, s) => {
      const a = alpha(s);
      const x0 = x - s * e;
      return a * e - a * s * x0; // v = alpha eps - sigma_vp x0
    });
    const v = await sample(createVpModel({ schedule, predictionType: 'v' }), vNet);
    expect(maxAbsDiff(v, base)).toBeLessThan(1e-4);
  });

  it('sample (x0) prediction', async () => {
    const x0Net = oracleNetwork(vpInput, (x, e, s) => x - s * e);
    const x0 = await sample(createVpModel({ schedule, predictionType: 'sample' }), x0Net);
    expect(maxAbsDiff(x0, base)).toBeLessThan(1e-4);
  });

  it('VE and EDM models (noise scaled by sigma_max instead of sqrt(1 + sigma_max^2))', async () => {
    const smax = schedule.sigmaMax;
    const z = tf.tidy(() => tf.mul(noise, Math.sqrt(1 + smax * smax) / smax));
    const ve = await sample(
      createVeModel(),
      oracleNetwork(
        () => 1,
        (_x, e) => e,
      ),
      z,
    );
    expect(maxAbsDiff(ve, base)).toBeLessThan(1e-4);
    const sd = 0.5;
    const edmNet = oracleNetwork(
      (s) => Math.sqrt(s * s + sd * sd),
      (x, e, s) => {
        const d = s * s + sd * sd;
        const D = x - s * e;
        return (D - ((sd * sd) / d) * x) / ((s * sd) / Math.sqrt(d));
      },
    );
    const edm = await sample(createEdmModel({ sigmaData: sd }), edmNet, z);
    expect(maxAbsDiff(edm, base)).toBeLessThan(1e-3);
    z.dispose();
  });

  it('rejects v prediction for a VE model', () => {
    expect(() => createVeModel({ predictionType: 'v' as 'epsilon' })).toThrow(
      /^@plexus\/diffusion-samplers\/model: predictionType 'v' is not supported here/,
    );
  });
});

describe('thresholding', () => {
  it('dynamic thresholding clips each sample at its quantile (>= 1) and rescales', () => {
    const x = tf.tensor2d([
      [0.5, -0.2, 0.1, 0.3],
      [4, -2, 1, 0.5],
    ]);
    const y = applyThresholding(x, { type: 'dynamic', ratio: 0.5, maxValue: 10 });
    const out = y.arraySync() as number[][];
    // Row 0: quantile(|x|, 0.5) = 0.25 -> s = 1: unchanged.
    expect(out[0]![0]).toBeCloseTo(0.5, 6);
    // Row 1: |x| sorted 0.5, 1, 2, 4: quantile 0.5 = 1.5 -> clip to 1.5, / 1.5.
    expect(out[1]).toEqual([1, -1, 1 / 1.5, 0.5 / 1.5].map((v) => expect.closeTo(v, 6)));
    const c = applyThresholding(x, { type: 'clip', range: 1 });
    expect((c.arraySync() as number[][])[1]).toEqual([1, -1, 1, 0.5]);
    tf.dispose([x, y, c]);
  });

  it('is applied to the denoised estimate and validated before any call', async () => {
    const epsNet = oracleNetwork(
      (s) => 1 / alpha(s),
      (_x, e) => e,
    );
    const clipped = await sample(
      createVpModel({ schedule, thresholding: { type: 'clip', range: 0.5 } }),
      epsNet,
    );
    expect(Math.max(...Array.from(clipped, Math.abs))).toBeLessThanOrEqual(0.5 + 1e-6);
    await expect(
      sample(createVpModel({ schedule, thresholding: { type: 'dynamic', ratio: 2 } }), () => {
        throw new Error('not called');
      }),
    ).rejects.toThrow(/^@plexus\/diffusion-samplers\/thresholding: ratio must lie in \(0, 1\]/);
  });
});

describe('classifier-free guidance', () => {
  it('returns u + w (c - u), calls the model twice, and leaks nothing', async () => {
    const calls: (string | undefined)[] = [];
    const net: Denoiser<string> = (x, _t, cond) => {
      calls.push(cond);
      return tf.fill(x.shape, cond === 'cat' ? 3 : 1);
    };
    const guided = classifierFreeGuidance(net, { scale: 7.5, uncond: '' });
    const x = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    const out = await guided(x, 10, 'cat', { sigma: 1, step: 0, call: 0 });
    expect(Array.from(out.dataSync())).toEqual(new Array(8).fill(1 + 7.5 * 2));
    expect(calls).toEqual(['cat', '']);
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    expect(() => classifierFreeGuidance(net, { scale: Number.NaN, uncond: '' })).toThrow(
      /^@plexus\/diffusion-samplers\/guidance: scale must be a finite number/,
    );
  });
});
