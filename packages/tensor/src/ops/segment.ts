import * as tf from '@tensorflow/tfjs-core';
import { checkTensor } from '../internal/validate.js';
import { SEGMENT_MAX, SEGMENT_SUM } from '../kernels/names.js';
import { hasPlexusKernel, runPlexusKernel } from '../kernels/register.js';
import { prepareSegmentIds, type SegmentIds } from './segment-ids.js';

type SegmentData = tf.Tensor1D | tf.Tensor2D;

/** Run a segment kernel on `[E, F]` data, reshaping 1-D data to `[E, 1]` and back. */
function runSegment(
  kernel: string,
  data: SegmentData,
  ids: tf.Tensor1D,
  numSegments: number,
): SegmentData {
  return tf.tidy(() => {
    // Zero segments: an empty result (tfjs' own unsortedSegmentSum fails on it).
    if (numSegments === 0) return tf.zeros(data.rank === 1 ? [0] : [0, data.shape[1]!]);
    const data2d = data.rank === 1 ? tf.reshape(data, [data.shape[0], 1]) : data;
    let out: tf.Tensor2D;
    if (hasPlexusKernel(kernel)) {
      out = runPlexusKernel<tf.Tensor2D>(
        kernel,
        { data: data2d, segmentIds: ids },
        { numSegments },
      );
    } else if (kernel === SEGMENT_SUM) {
      out = tf.unsortedSegmentSum(data2d, ids, numSegments) as tf.Tensor2D;
    } else {
      out = segmentMaxOnHost(data2d as tf.Tensor2D, ids, numSegments);
    }
    return data.rank === 1 ? tf.reshape(out, [numSegments]) : out;
  }) as SegmentData;
}

/** Segment max through host memory, for backends with synchronous reads but no Plexus kernel. */
function segmentMaxOnHost(data: tf.Tensor2D, ids: tf.Tensor1D, numSegments: number): tf.Tensor2D {
  const F = data.shape[1];
  const values = data.dataSync() as Float32Array;
  const segs = ids.dataSync() as Int32Array;
  const out = new Float32Array(numSegments * F).fill(Number.NEGATIVE_INFINITY);
  const seen = new Uint8Array(numSegments);
  for (let e = 0; e < segs.length; e++) {
    const s = segs[e]!;
    seen[s] = 1;
    for (let f = 0; f < F; f++) {
      const v = values[e * F + f]!;
      if (!(v <= out[s * F + f]!)) out[s * F + f] = v;
    }
  }
  for (let s = 0; s < numSegments; s++) if (!seen[s]) out.fill(0, s * F, s * F + F);
  return tf.tensor2d(out, [numSegments, F]);
}

function checkData(module: string, data: unknown): asserts data is SegmentData {
  checkTensor(module, 'data', data, 'float32', [1, 2]);
}

/**
 * Sum of the rows of `data` that share a segment id: `out[s] = sum over i
 * with ids[i] = s of data[i]`. Ids need not be sorted; empty segments give 0.
 * Differentiable in `data` (the gradient gathers `dy` by id).
 */
export function segmentSum<T extends SegmentData>(
  data: T,
  segmentIds: SegmentIds,
  numSegments: number,
): T {
  checkData('segmentSum', data);
  return tf.tidy(() => {
    const ids = prepareSegmentIds('segmentSum', segmentIds, data.shape[0], numSegments);
    // Tensors a gradient needs go through `save`: the tape keeps saved
    // tensors alive after this tidy disposes its own.
    const f = tf.customGrad((d, save) => {
      (save as tf.GradSaveFunc)([ids]);
      return {
        value: runSegment(SEGMENT_SUM, d as SegmentData, ids, numSegments),
        gradFunc: (dy, [savedIds]) => tf.gather(dy, savedIds!),
      };
    });
    return f(data);
  }) as T;
}

/** Mean of the rows of `data` per segment; empty segments give 0. Differentiable. */
export function segmentMean<T extends SegmentData>(
  data: T,
  segmentIds: SegmentIds,
  numSegments: number,
): T {
  checkData('segmentMean', data);
  return tf.tidy(() => {
    const ids = prepareSegmentIds('segmentMean', segmentIds, data.shape[0], numSegments);
    const sums = segmentSum(data, ids, numSegments);
    const ones = tf.ones([data.shape[0]]) as tf.Tensor1D;
    const counts = tf.maximum(segmentSum(ones, ids, numSegments), 1);
    return tf.div(sums, data.rank === 1 ? counts : tf.expandDims(counts, 1));
  }) as T;
}

/**
 * Maximum of the rows of `data` per segment (elementwise); empty segments
 * give 0, as PyG's `scatter(reduce='max')` does. The gradient goes to the
 * maximal entries, split evenly between ties.
 */
export function segmentMax<T extends SegmentData>(
  data: T,
  segmentIds: SegmentIds,
  numSegments: number,
): T {
  checkData('segmentMax', data);
  return tf.tidy(() => {
    const ids = prepareSegmentIds('segmentMax', segmentIds, data.shape[0], numSegments);
    const f = tf.customGrad((d, save) => {
      const y = runSegment(SEGMENT_MAX, d as SegmentData, ids, numSegments);
      (save as tf.GradSaveFunc)([d as tf.Tensor, y, ids]);
      return {
        value: y,
        gradFunc: (dy, saved) => {
          const [ds, ys, sid] = saved as [SegmentData, SegmentData, tf.Tensor1D];
          const isMax = tf.cast(tf.equal(ds, tf.gather(ys, sid)), 'float32') as SegmentData;
          const ties = tf.gather(runSegment(SEGMENT_SUM, isMax, sid, numSegments), sid);
          return tf.div(tf.mul(isMax, tf.gather(dy, sid)), tf.maximum(ties, 1));
        },
      };
    });
    return f(data);
  }) as T;
}

/**
 * Softmax of `logits` within each segment (per column for 2-D logits, e.g.
 * one column per attention head): the normalisation of attention scores over
 * each node's incoming edges in GAT-style layers. Numerically stable (the
 * segment max is subtracted first); differentiable.
 */
export function segmentSoftmax<T extends SegmentData>(
  logits: T,
  segmentIds: SegmentIds,
  numSegments: number,
): T {
  checkData('segmentSoftmax', logits);
  return tf.tidy(() => {
    const ids = prepareSegmentIds('segmentSoftmax', segmentIds, logits.shape[0], numSegments);
    // No rows: nothing to normalise (tfjs-wasm's gather on a zero-row tensor with zero
    // segments returns a [1, 1, 0, F] tensor, so the general path would change the shape).
    if (logits.shape[0] === 0) return tf.clone(logits);
    const f = tf.customGrad((x, save) => {
      const xs = x as SegmentData;
      const shifted = tf.sub(xs, tf.gather(runSegment(SEGMENT_MAX, xs, ids, numSegments), ids));
      const e = tf.exp(shifted);
      const y = tf.div(
        e,
        tf.gather(runSegment(SEGMENT_SUM, e as SegmentData, ids, numSegments), ids),
      );
      (save as tf.GradSaveFunc)([y, ids]);
      return {
        value: y,
        gradFunc: (dy, saved) => {
          const [ys, sid] = saved as [SegmentData, tf.Tensor1D];
          const dot = runSegment(SEGMENT_SUM, tf.mul(dy, ys) as SegmentData, sid, numSegments);
          return tf.mul(ys, tf.sub(dy, tf.gather(dot, sid)));
        },
      };
    });
    return f(logits);
  }) as T;
}
