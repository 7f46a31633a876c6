import type * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../errors.js';

/** Shape of a tensor as text, e.g. `[3, 4]`. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless `t` is a live tfjs tensor of the given dtype and one of the given ranks. */
export function checkTensor(
  module: string,
  name: string,
  t: unknown,
  dtype: 'float32' | 'int32',
  ranks: readonly number[],
): asserts t is tf.Tensor {
  const tensor = t as tf.Tensor;
  if (typeof t !== 'object' || t === null || !('dataId' in t) || !('shape' in t)) {
    throw new PlexusTensorError(module, `${name} must be a tf.Tensor, got ${describe(t)}`);
  }
  if (tensor.isDisposed) throw new PlexusTensorError(module, `${name} has been disposed`);
  if (tensor.dtype !== dtype) {
    throw new PlexusTensorError(module, `${name} must have dtype ${dtype}, got ${tensor.dtype}`);
  }
  if (!ranks.includes(tensor.rank)) {
    throw new PlexusTensorError(
      module,
      `${name} must have rank ${ranks.join(' or ')}, got shape ${shapeText(tensor.shape)}`,
    );
  }
}

/** Throws unless `n` is an integer in `[min, max]`. */
export function checkInteger(
  module: string,
  name: string,
  n: unknown,
  min: number,
  max: number,
): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new PlexusTensorError(
      module,
      `${name} must be an integer in [${min}, ${max}], got ${String(n)}`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v;
}
