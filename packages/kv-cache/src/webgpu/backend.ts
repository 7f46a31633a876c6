import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';

/** Workgroups per grid dimension every WebGPU device supports. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/** A tfjs webgpu program as `runWebGPUProgram` takes it. */
export interface WebGpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  uniforms: string;
  getUserCode: () => string;
}

/** A uniform value as `runWebGPUProgram` takes it. */
export interface WebGpuUniform {
  type: string;
  data: number[];
}

/**
 * The part of tfjs' `WebGPUBackend` (4.22) this package calls, declared here
 * so the package needs no dependency on `@tensorflow/tfjs-backend-webgpu`
 * (whoever registers the webgpu backend already has it).
 */
export interface WebGpuBackendLike {
  readonly device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  readonly commandQueueOwnedIds: WeakSet<object>;
  runWebGPUProgram(
    program: WebGpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms: WebGpuUniform[],
  ): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeUniforms(uniforms: WebGpuUniform[]): GPUBufferBinding;
  tensorMap: { get(dataId: object): { resource?: GPUBuffer | unknown } | undefined };
}

/** The active tfjs backend as a webgpu backend, or a clear error naming `module`. */
export function webGpuBackend(module: string): WebGpuBackendLike {
  if (tf.getBackend() !== 'webgpu')
    throw new PlexusKvCacheError(
      module,
      `the active tfjs backend is ${tf.getBackend()}; expected webgpu`,
    );
  return tf.backend() as unknown as WebGpuBackendLike;
}

/** A 2-D grid of `workgroups` workgroups (extra ones must check they are inactive). */
export function grid(workgroups: number, module: string): [number, number, number] {
  const dx = Math.max(1, Math.min(workgroups, MAX_WORKGROUPS_PER_DIM));
  const dy = Math.ceil(workgroups / dx);
  if (dy > MAX_WORKGROUPS_PER_DIM)
    throw new PlexusKvCacheError(module, `${workgroups} workgroups exceed one dispatch`);
  return [dx, Math.max(1, dy), 1];
}

/** An int32 uniform. */
export const int = (v: number): WebGpuUniform => ({ type: 'int32', data: [v] });

/** Run a program and wrap its output as a tensor the caller owns. */
export function runProgram<T extends tf.Tensor>(
  backend: WebGpuBackendLike,
  program: WebGpuProgram,
  inputs: tf.Tensor[],
  uniforms: WebGpuUniform[],
): T {
  const info = backend.runWebGPUProgram(program, inputs, 'float32', uniforms);
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}
