import * as tf from '@tensorflow/tfjs-core';
import type { LoadedBackend } from './types.js';

/** The tfjs-node flavours register the `tensorflow` backend when imported. */
export async function loadTfjsNode(
  pkg: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu',
): Promise<LoadedBackend> {
  // A variable specifier keeps bundlers from resolving an optional peer that is usually absent.
  const specifier: string = pkg;
  await import(specifier);
  if (!(await tf.setBackend('tensorflow')))
    throw new Error(`${pkg} loaded but its backend did not initialise`);
  const gpu = pkg.endsWith('-gpu');
  return {
    tfjsBackend: 'tensorflow',
    device: gpu ? 'libtensorflow (CUDA)' : 'libtensorflow (CPU)',
    isGpu: gpu,
    limits: {},
  };
}

/** The WASM backend, with SIMD and threads where the runtime supports them. */
export async function loadWasm(): Promise<LoadedBackend> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return {
    tfjsBackend: 'wasm',
    device: `WebAssembly (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'single thread'})`,
    isGpu: false,
    limits: { simd, threads },
  };
}

/** The plain JavaScript CPU backend, which always works. */
export async function loadCpu(): Promise<LoadedBackend> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
  return { tfjsBackend: 'cpu', device: 'JavaScript (main thread)', isGpu: false, limits: {} };
}
