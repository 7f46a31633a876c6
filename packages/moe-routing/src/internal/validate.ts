import type * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';

/** Throw unless `value` is an integer in `[min, max]`. */
export function checkInt(
  module: string,
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new MoeRoutingError(module, `${name} must be an integer ${range}, got ${value}`);
  }
}

/** Throw unless `value` is a finite number > 0. */
export function checkPositive(module: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new MoeRoutingError(module, `${name} must be a finite number > 0, got ${value}`);
  }
}

/** Throw unless `t` is a float32 rank-2 tensor with the given column count (when set). */
export function checkMatrix(
  module: string,
  name: string,
  t: tf.Tensor,
  cols?: number,
  rows?: number,
): void {
  if (t.rank !== 2 || t.dtype !== 'float32') {
    throw new MoeRoutingError(
      module,
      `${name} must be a float32 matrix [rows, cols], got ${t.dtype} of shape [${t.shape.join(', ')}]`,
    );
  }
  if (cols !== undefined && t.shape[1] !== cols) {
    throw new MoeRoutingError(
      module,
      `${name} must have ${cols} columns, got shape [${t.shape.join(', ')}]`,
    );
  }
  if (rows !== undefined && t.shape[0] !== rows) {
    throw new MoeRoutingError(
      module,
      `${name} must have ${rows} rows, got shape [${t.shape.join(', ')}]`,
    );
  }
}
