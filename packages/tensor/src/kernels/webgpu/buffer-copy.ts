import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

// Row ranges are moved with buffer-to-buffer copies, which need no binding:
// tfjs' own slice and concat programs bind the whole input or output, so
// they fail on exactly the tensors that tiling exists for (those larger than
// maxStorageBufferBindingSize).

// Internals of tfjs' WebGPUBackend that TypeScript marks private.
interface BackendInternals {
  commandEncoder: GPUCommandEncoder;
  commandQueueOwnedIds: WeakSet<object>;
  tensorMap: { get(dataId: object): { resource?: unknown } };
}

function rowBytes(shape: readonly number[]): number {
  return 4 * shape.slice(1).reduce((a, d) => a * d, 1);
}

/** Record `copyBufferToBuffer` of `bytes` from `src` at `srcOffset` to `dst` at `dstOffset`. */
function copyBytes(
  backend: WebGPUBackend,
  src: TensorInfo,
  srcOffset: number,
  dst: TensorInfo,
  dstOffset: number,
  bytes: number,
): void {
  if (bytes === 0) return;
  const internals = backend as unknown as BackendInternals;
  backend.uploadToGPU(src.dataId);
  backend.uploadToGPU(dst.dataId);
  const bufferOf = (t: TensorInfo): GPUBuffer =>
    internals.tensorMap.get(t.dataId).resource as GPUBuffer;
  backend.ensureCommandEncoderReady();
  // Copies are recorded on the command encoder, outside any compute pass.
  backend.endComputePassEncoder();
  internals.commandEncoder.copyBufferToBuffer(
    bufferOf(src),
    srcOffset,
    bufferOf(dst),
    dstOffset,
    bytes,
  );
  // Queued work now uses both: tfjs defers releasing them until it submits.
  internals.commandQueueOwnedIds.add(src.dataId);
  internals.commandQueueOwnedIds.add(dst.dataId);
}

/** A new tensor holding rows `[start, start + count)` of `t` (first axis), copied on the GPU. */
export function sliceRows(
  backend: WebGPUBackend,
  t: TensorInfo,
  start: number,
  count: number,
): TensorInfo {
  const out = backend.makeTensorInfo([count, ...t.shape.slice(1)], t.dtype);
  const bytes = rowBytes(t.shape);
  copyBytes(backend, t, start * bytes, out, 0, count * bytes);
  return out;
}

/**
 * Stack row blocks (each `[rows_i, ...rest]`) into one `shape` tensor,
 * disposing the blocks; a single block is returned as is.
 */
export function joinRowBlocks(
  backend: WebGPUBackend,
  blocks: TensorInfo[],
  shape: number[],
  dtype: DataType,
): TensorInfo {
  if (blocks.length === 1) return blocks[0]!;
  const out = backend.makeTensorInfo(shape, dtype);
  let offset = 0;
  for (const b of blocks) {
    const bytes = b.shape[0]! * rowBytes(b.shape);
    copyBytes(backend, b, 0, out, offset, bytes);
    offset += bytes;
  }
  for (const b of blocks) backend.disposeData(b.dataId);
  return out;
}
