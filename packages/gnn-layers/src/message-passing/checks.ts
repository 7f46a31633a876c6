import type * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';

/** Module name in this folder's error messages. */
export const MODULE = 'message-passing';

/** True for a tfjs tensor (duck-typed, so two tfjs copies still agree). */
export function isTensor(t: unknown): t is tf.Tensor {
  return (
    typeof t === 'object' &&
    t !== null &&
    'rank' in t &&
    'dtype' in t &&
    Array.isArray((t as tf.Tensor).shape)
  );
}

/** `dtype [shape]` of a tensor, or the JS type of anything else, for error messages. */
export function describe(t: unknown): string {
  return isTensor(t) ? `${t.dtype} [${t.shape.join(', ')}]` : t === null ? 'null' : typeof t;
}

/** Throws unless `t` is a float32 `[rows, *]` tensor (`what` names it and its rows). */
export function checkRows(
  t: unknown,
  rows: number,
  what: string,
  rowName: string,
): asserts t is tf.Tensor2D {
  if (!isTensor(t) || t.rank !== 2 || t.dtype !== 'float32' || t.shape[0] !== rows) {
    throw new GnnLayersError(
      MODULE,
      `${what} must be a float32 [${rows}, F] (${rowName}, F) tensor, got ${describe(t)}`,
    );
  }
}
