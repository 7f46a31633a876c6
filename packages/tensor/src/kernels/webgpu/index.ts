import type { KernelConfig } from '@tensorflow/tfjs-core';
import { SPMM } from '../names.js';
import { spmmWebGpu } from './spmm-kernel.js';

export type { WebGpuKernelLimits } from './limits.js';
export { setWebGpuKernelLimits, webGpuKernelLimits } from './limits.js';

/** WGSL kernel configs for the `webgpu` backend, registered by `registerPlexusKernels`. */
export function webgpuKernelConfigs(): KernelConfig[] {
  return [{ kernelName: SPMM, backendName: 'webgpu', kernelFunc: spmmWebGpu }];
}
