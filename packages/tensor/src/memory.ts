import * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from './errors.js';

/** tfjs' memory counters plus what the active backend holds outside the JS heap. */
export interface MemoryReport {
  readonly backend: string;
  readonly numTensors: number;
  readonly numDataBuffers: number;
  /** Bytes of tensor data tfjs accounts for. */
  readonly numBytes: number;
  /** WebGPU: bytes of GPU buffers in use by tensors. */
  readonly gpuBytesInUse?: number;
  /** WebGPU: bytes of GPU buffers allocated, including the buffer pool. */
  readonly gpuBytesAllocated?: number;
  /** WASM: size of the WebAssembly heap. */
  readonly wasmHeapBytes?: number;
}

/** A snapshot of tensor and device memory on the active backend. */
export function memoryReport(): MemoryReport {
  const m = tf.memory() as tf.MemoryInfo & {
    numBytesInGPU?: number;
    numBytesAllocatedInGPU?: number;
  };
  const backend = tf.getBackend();
  const report: MemoryReport = {
    backend,
    numTensors: m.numTensors,
    numDataBuffers: m.numDataBuffers,
    numBytes: m.numBytes,
  };
  if (backend === 'webgpu') {
    return {
      ...report,
      gpuBytesInUse: m.numBytesInGPU ?? 0,
      gpuBytesAllocated: m.numBytesAllocatedInGPU ?? 0,
    };
  }
  if (backend === 'wasm') {
    const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
    return { ...report, wasmHeapBytes: wasm?.HEAPU8?.byteLength ?? 0 };
  }
  return report;
}

/**
 * Run `fn` and throw if it leaves more live tensors than it started with
 * (beyond `allowed`, e.g. tensors it returns on purpose). Works for sync and
 * async functions; the error says how many leaked and where.
 */
export async function assertNoTensorLeak<T>(
  label: string,
  fn: () => T | Promise<T>,
  allowed = 0,
): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after - before > allowed) {
    throw new PlexusTensorError(
      'memory',
      `${label} leaked ${after - before - allowed} tensor(s): ${before} live before, ${after} after (allowed ${allowed})`,
    );
  }
  return result;
}
