import * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../errors.js';
import { checkInteger, checkTensor, shapeText } from '../internal/validate.js';

/** Segment ids: host `Int32Array` (validated on the host) or an int32 tensor. */
export type SegmentIds = Int32Array | tf.Tensor1D;

/**
 * Validate segment ids against `numRows` rows of data and `numSegments`, and
 * return them as a tensor (a fresh one for host ids, which the caller's tidy
 * disposes). Tensor ids are range-checked by reading them on backends that
 * hold data in host memory; on `webgpu` (no synchronous read) the kernels
 * skip out-of-range ids instead, so pass host ids there to get the error.
 */
export function prepareSegmentIds(
  module: string,
  ids: SegmentIds,
  numRows: number,
  numSegments: number,
): tf.Tensor1D {
  checkInteger(module, 'numSegments', numSegments, 0, 0x7fffffff);
  if (ids instanceof Int32Array) {
    if (ids.length !== numRows) {
      throw new PlexusTensorError(
        module,
        `segmentIds must have one id per data row (${numRows}), got ${ids.length}`,
      );
    }
    checkRange(module, ids, numSegments);
    return tf.tensor1d(ids, 'int32');
  }
  checkTensor(module, 'segmentIds', ids, 'int32', [1]);
  if (ids.shape[0] !== numRows) {
    throw new PlexusTensorError(
      module,
      `segmentIds must have one id per data row (${numRows}), got shape ${shapeText(ids.shape)}`,
    );
  }
  // Tensors are immutable, so one range check per tensor suffices: layers
  // pass the same ids every step, and re-reading them would cost a sync.
  const known = validatedBound.get(ids.dataId);
  if (known !== undefined && known <= numSegments) return ids;
  if (tf.getBackend() !== 'webgpu') {
    const values = ids.dataSync() as Int32Array;
    checkRange(module, values, numSegments);
    let bound = 0;
    for (let k = 0; k < values.length; k++) bound = Math.max(bound, values[k]! + 1);
    validatedBound.set(ids.dataId, bound);
  }
  return ids;
}

/** Smallest valid `numSegments` of each id tensor already checked, keyed by its data. */
const validatedBound = new WeakMap<object, number>();
function checkRange(module: string, ids: Int32Array, numSegments: number): void {
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) {
      throw new PlexusTensorError(
        module,
        `segment id ${s} at position ${i} is out of range [0, ${numSegments})`,
      );
    }
  }
}
