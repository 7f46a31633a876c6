import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the union package registers every
// core op's gradient on import, which `tf.grads` through our composites needs.
// (This import is why package.json lists the dist entry points as side effects.)
import '@tensorflow/tfjs';
import { reductionGradConfigs } from '../gradients/reduction-grads.js';
import { hostKernelConfigs } from './host/host-kernels.js';
import { cpuHostMemory, wasmHostMemory } from './host/host-memory.js';
import { unsortedSegmentSumConfig } from './host/unsorted-segment-sum.js';
import { syncWasmMatMul } from './wasm-matmul/install.js';
import { webgpuKernelConfigs } from './webgpu/index.js';
import { installWebGpuSplitReductions } from './webgpu/split-reduce.js';

let registered = false;

/**
 * Register Plexus kernels with tfjs for `cpu`, `wasm` and `webgpu`, and the
 * device-side gradients of Sum and Mean (`reduction-grads.ts`). Called
 * lazily by every op (so importing the package has no side effect); calling it
 * again is free. Backends without a registered kernel (e.g. tfjs-node's
 * `tensorflow`) run the op's composite of native tfjs ops instead.
 * On wasm it also swaps in the SIMD GEMM as `BatchMatMul` (see
 * `setWasmMatMulEnabled`), on every call, since tfjs-backend-wasm may be
 * loaded after the first registration.
 */
export function registerPlexusKernels(): void {
  syncWasmMatMul();
  // tfjs-backend-webgpu may be loaded after the first registration, too.
  installWebGpuSplitReductions();
  if (registered) return;
  registered = true;
  const configs = [
    ...hostKernelConfigs('cpu', cpuHostMemory),
    ...hostKernelConfigs('wasm', wasmHostMemory),
    ...webgpuKernelConfigs(),
    // Fills a gap in tfjs-backend-wasm (no UnsortedSegmentSum), which breaks
    // the gradient of tf.gather there; registered only where none exists.
    unsortedSegmentSumConfig('wasm', wasmHostMemory),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, config.backendName) === undefined)
      tf.registerKernel(config);
  }
  // Replaces tfjs' (registered by the import above): see reduction-grads.ts.
  for (const config of reductionGradConfigs) tf.registerGradient(config);
}

/** Whether the active backend has the Plexus kernel `name` (after registration). */
export function hasPlexusKernel(name: string): boolean {
  registerPlexusKernels();
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Run a Plexus kernel on the active backend. */
export function runPlexusKernel<T extends tf.Tensor | tf.Tensor[]>(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number> = {},
): T {
  registerPlexusKernels();
  return tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as T;
}
