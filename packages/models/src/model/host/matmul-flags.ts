import { wasmMatMulActive } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether `tf.matMul` with `transposeA`/`transposeB` and with a batch of
 * more than one runs at about the speed of a plain 2-D product here: true
 * except on wasm with tfjs-backend-wasm's own `BatchMatMul` (5–20× slower
 * transposed, 0.2 GFLOP/s batched), i.e. when `@plexus/tensor`'s SIMD GEMM
 * is switched off. Callers then pass the flags instead of transposing
 * operands, and batch the attention's per-group products into one call.
 */
export function matMulFlagsFast(): boolean {
  return tf.getBackend() !== 'wasm' || wasmMatMulActive();
}
