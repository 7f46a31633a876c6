import type { ReduceOp } from '../types.js';
import type { ElementArray } from './dtype.js';
import { jsReduceInto } from './js-reduce.js';

/**
 * The default element-wise reduction `acc[i] = acc[i] (op) src[i]` used by
 * every algorithm.
 */
export function reduceElements(acc: ElementArray, src: ElementArray, op: ReduceOp): void {
  jsReduceInto(acc, src, op);
}
