// Test helpers: the oracle network in every parameterisation, and a sampler zoo.
import * as tf from '@tensorflow/tfjs-core';
import {
  createDdim,
  createDdpm,
  createDpmSolverPlusPlus,
  createEuler,
  createEulerAncestral,
  createHeun,
  createLms,
  createPndm,
  createUniPc,
  type Denoiser,
  gmmEpsilon,
  type SamplerV1,
} from '../src/index.js';
import { mixture } from './oracle-fixture.js';

/** Exact mixture epsilon at (xbar, sigma) as a float64 host array. */
export function exactEps(xbar: Float64Array, sigma: number): Float64Array {
  return gmmEpsilon(mixture, xbar, sigma);
}

/**
 * The oracle as a network of the given kind: `toXbar` undoes the input
 * scaling, `output` maps (xbar, eps, sigma) to what that network predicts.
 */
export function oracleNetwork(
  toXbar: (sigma: number) => number,
  output: (xbar: number, eps: number, sigma: number) => number,
): Denoiser {
  return (x, _t, _c, info) => {
    const scale = toXbar(info.sigma);
    const data = x.dataSync();
    const xbar = Float64Array.from(data, (v) => v * scale);
    const eps = exactEps(xbar, info.sigma);
    const out = new Float32Array(xbar.length);
    for (let i = 0; i < out.length; i++) out[i] = output(xbar[i]!, eps[i]!, info.sigma);
    return tf.tensor(out, x.shape, 'float32');
  };
}

/** Every sampler with default settings, by name. */
export function allSamplers(): Record<string, SamplerV1> {
  return {
    ddpm: createDdpm(),
    'ddpm-large': createDdpm({ varianceType: 'fixed_large' }),
    ddim: createDdim(),
    'ddim-eta1': createDdim({ eta: 1 }),
    euler: createEuler(),
    'euler-ancestral': createEulerAncestral(),
    heun: createHeun(),
    'heun-churn': createHeun({ sChurn: 10 }),
    'dpmpp-2m': createDpmSolverPlusPlus(),
    'dpmpp-2m-heun': createDpmSolverPlusPlus({ solverType: 'heun' }),
    'dpmpp-3m': createDpmSolverPlusPlus({ order: 3 }),
    'dpmpp-2m-sde': createDpmSolverPlusPlus({ sde: true }),
    unipc: createUniPc(),
    'unipc-3': createUniPc({ order: 3 }),
    'unipc-bh1': createUniPc({ variant: 'bh1' }),
    lms: createLms(),
    pndm: createPndm(),
  };
}
