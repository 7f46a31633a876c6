import type { KernelConfig } from '@tensorflow/tfjs-core';
import { SDDMM, SEGMENT_MAX, SEGMENT_SUM, SPMM, TOP_K } from '../names.js';
import { sddmmWebGpu } from './sddmm-kernel.js';
import { segmentWebGpu } from './segment-kernel.js';
import { spmmWebGpu } from './spmm-kernel.js';
import { topKWebGpu } from './topk-kernel.js';

export type { WebGpuKernelLimits } from './limits.js';
export { setWebGpuKernelLimits, webGpuKernelLimits } from './limits.js';

/** WGSL kernel configs for the `webgpu` backend, registered by `registerPlexusKernels`. */
export function webgpuKernelConfigs(): KernelConfig[] {
  return [
    { kernelName: SPMM, backendName: 'webgpu', kernelFunc: spmmWebGpu },
    { kernelName: SDDMM, backendName: 'webgpu', kernelFunc: sddmmWebGpu },
    { kernelName: SEGMENT_SUM, backendName: 'webgpu', kernelFunc: segmentWebGpu('sum') },
    { kernelName: SEGMENT_MAX, backendName: 'webgpu', kernelFunc: segmentWebGpu('max') },
    { kernelName: TOP_K, backendName: 'webgpu', kernelFunc: topKWebGpu },
  ];
}
