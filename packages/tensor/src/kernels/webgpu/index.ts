import type { KernelConfig } from '@tensorflow/tfjs-core';

/** WGSL kernel configs for the `webgpu` backend (filled in by the WebGPU kernels). */
export function webgpuKernelConfigs(): KernelConfig[] {
  return [];
}
