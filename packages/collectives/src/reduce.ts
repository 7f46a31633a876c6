import { PlexusCollectivesError } from './errors.js';
import type { CollectiveBuffer, ReduceOp } from './types.js';

const OPS: readonly ReduceOp[] = ['sum', 'prod', 'min', 'max', 'avg'];

/** Throws unless `op` is a known reduction operator. */
export function checkOp(op: unknown): asserts op is ReduceOp {
  if (!OPS.includes(op as ReduceOp)) {
    throw new PlexusCollectivesError(
      'reduce',
      'invalid-argument',
      `expected op to be one of ${OPS.join(', ')}, got ${String(op)}`,
    );
  }
}

/**
 * `acc[i] = acc[i] (op) src[i]` for `i < acc.length`. `avg` accumulates like
 * `sum`; call `finishAvg` once at the end. Int32 arithmetic wraps modulo 2^32.
 */
export function reduceInto(acc: CollectiveBuffer, src: CollectiveBuffer, op: ReduceOp): void {
  const n = acc.length;
  const isInt = acc instanceof Int32Array;
  switch (op) {
    case 'sum':
    case 'avg':
      for (let i = 0; i < n; i++) acc[i] = acc[i]! + src[i]!;
      break;
    case 'prod':
      if (isInt) for (let i = 0; i < n; i++) acc[i] = Math.imul(acc[i]!, src[i]!);
      else for (let i = 0; i < n; i++) acc[i] = acc[i]! * src[i]!;
      break;
    case 'min':
      for (let i = 0; i < n; i++) {
        const b = src[i]!;
        if (b < acc[i]! || Number.isNaN(b)) acc[i] = b;
      }
      break;
    case 'max':
      for (let i = 0; i < n; i++) {
        const b = src[i]!;
        if (b > acc[i]! || Number.isNaN(b)) acc[i] = b;
      }
      break;
  }
}

/** Divides a summed buffer by `count` (truncating toward zero for Int32Array). */
export function finishAvg(acc: CollectiveBuffer, count: number): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! / count;
}

/**
 * Bounds `[start, end)` of segment `index` when `length` elements are split
 * into `parts` contiguous segments; the first `length % parts` get one more.
 */
export function segmentBounds(length: number, parts: number, index: number): [number, number] {
  const base = Math.floor(length / parts);
  const extra = length % parts;
  const start = index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}
