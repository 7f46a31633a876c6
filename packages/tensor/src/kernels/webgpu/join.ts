import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

// Internals of tfjs' WebGPUBackend that TypeScript marks private.
interface BackendInternals {
  commandEncoder: GPUCommandEncoder;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(dataId: object): { resource?: unknown } };
}

/**
 * Stack row blocks (each `[rows_i, ...rest]`) into one `shape` tensor with
 * buffer-to-buffer copies, disposing the blocks. Copies need no binding, so
 * this joins outputs larger than `maxStorageBufferBindingSize`, which a
 * concat program (binding the whole output) could not write.
 */
export function joinRowBlocks(
  backend: WebGPUBackend,
  blocks: TensorInfo[],
  shape: number[],
  dtype: DataType,
): TensorInfo {
  if (blocks.length === 1) return blocks[0]!;
  const out = backend.makeTensorInfo(shape, dtype);
  backend.uploadToGPU(out.dataId);
  const internals = backend as unknown as BackendInternals;
  const bufferOf = (t: TensorInfo): GPUBuffer =>
    internals.tensorMap.get(t.dataId).resource as GPUBuffer;
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  let offset = 0;
  for (const b of blocks) {
    const bytes = 4 * b.shape.reduce((a, d) => a * d, 1);
    if (bytes > 0) {
      internals.commandEncoder.copyBufferToBuffer(bufferOf(b), 0, bufferOf(out), offset, bytes);
      // Queued work holds the block: tfjs defers its release to the next submit.
      internals.commandQueueOwnedIds.add(b.dataId);
    }
    offset += bytes;
  }
  internals.commandQueueOwnedIds.add(out.dataId);
  for (const b of blocks) backend.disposeData(b.dataId);
  return out;
}
