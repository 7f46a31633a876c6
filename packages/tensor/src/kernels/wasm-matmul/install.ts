import * as tf from '@tensorflow/tfjs-core';
import { wasmBatchMatMulConfig } from './batch-matmul-kernel.js';

/**
 * On unless the environment variable `PLEXUS_WASM_MATMUL` is `0` or `off`
 * (for A/B runs of whole programs against tfjs' kernel).
 */
function defaultEnabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.PLEXUS_WASM_MATMUL;
  return env !== '0' && env !== 'off';
}

let wanted = defaultEnabled();
let ours: tf.KernelConfig | undefined;
let original: tf.KernelConfig | undefined;

/**
 * Make the registered wasm `BatchMatMul` match the current preference: ours
 * when enabled, tfjs-backend-wasm's own otherwise. Does nothing until
 * tfjs-backend-wasm has registered its kernels. Cheap; called by
 * `registerPlexusKernels` and `initBackend`.
 */
export function syncWasmMatMul(): void {
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (current === undefined) return;
  if (wanted && current !== ours) {
    if (ours === undefined || current !== original) {
      original = current;
      ours = wasmBatchMatMulConfig(current);
    }
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(ours);
  } else if (!wanted && current === ours && original !== undefined) {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(original);
  }
}

/**
 * Use the Plexus WebAssembly SIMD GEMM as the wasm backend's `BatchMatMul`
 * (the default once Plexus kernels are registered), or restore
 * tfjs-backend-wasm's own kernel with `false`. Affects `tf.matMul`, its
 * gradients and everything built on them. Returns whether the Plexus kernel
 * is registered now (false while tfjs-backend-wasm is not loaded; it is
 * swapped in when `initBackend` loads it).
 */
export function setWasmMatMulEnabled(enabled: boolean): boolean {
  wanted = enabled;
  syncWasmMatMul();
  return wasmMatMulActive();
}

/** Whether the wasm backend's `BatchMatMul` is the Plexus SIMD GEMM now. */
export function wasmMatMulActive(): boolean {
  return ours !== undefined && tf.getKernel('BatchMatMul', 'wasm') === ours;
}
