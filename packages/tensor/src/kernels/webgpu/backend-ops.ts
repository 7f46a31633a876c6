import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';

// Built-in webgpu kernels are called through the registry, not imported:
// importing tfjs-backend-webgpu at runtime would register the backend as a
// side effect of loading this package, even on machines without WebGPU.
function builtin(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'webgpu');
  if (config === undefined) {
    throw new PlexusTensorError('webgpu', `tfjs' webgpu backend has no '${name}' kernel`);
  }
  return config.kernelFunc;
}

/** A new `shape` tensor of `dtype` filled with `value`, on the GPU. */
export function fillTensor(
  backend: WebGPUBackend,
  shape: number[],
  dtype: 'float32' | 'int32',
  value: number,
): TensorInfo {
  return builtin(tf.Fill)({ inputs: {}, backend, attrs: { shape, value, dtype } }) as TensorInfo;
}

/** Dispose intermediate tensors a kernel made (tfjs defers the release until queued GPU work is done). */
export function disposeAll(backend: WebGPUBackend, infos: Iterable<TensorInfo>): void {
  for (const t of infos) backend.disposeData(t.dataId);
}
