import { switchedOff } from '../env-switch.js';
import { loadNativeAddon } from '../native/addon.js';
import type { ReduceOp } from '../types.js';
import { type DTypeName, dtypeOf, type ElementArray } from './dtype.js';

/** Codes of the Op enum of native/plexus_shm.cc (`avg`: sum, then divide by its divisor). */
export const NATIVE_OP_CODE: Record<ReduceOp, number> = { sum: 0, prod: 1, min: 2, max: 3, avg: 4 };
/** Codes of the DType enum of native/plexus_shm.cc. */
export const NATIVE_DTYPE_CODE: Record<DTypeName, number> = {
  f32: 0,
  f64: 1,
  i32: 2,
  i64: 3,
  u8: 4,
};

/** Set to `0` to keep reductions on the wasm SIMD kernel even where the addon loads. */
export const NATIVE_REDUCE_ENV = 'PLEXUS_NATIVE_REDUCE';

type NativeReduce = (acc: ElementArray, src: ElementArray, op: ReduceOp) => void;

let chosen: NativeReduce | null | undefined;

/**
 * `acc[i] = acc[i] op src[i]` in the package's native addon, straight on the
 * arrays (no staging through wasm memory: 2-3x the wasm kernel on 1-32 MiB
 * here), or null where the addon is not built or `PLEXUS_NATIVE_REDUCE=0`.
 * Same bits as the JS loop and the wasm kernel (IEEE add/mul, NaN-first
 * min/max with -0 below +0, wrapping integers). `avg` sums, like them.
 */
export function nativeReducer(): NativeReduce | null {
  if (chosen !== undefined) return chosen;
  const native = switchedOff(NATIVE_REDUCE_ENV) ? undefined : loadNativeAddon().native;
  chosen =
    native === undefined
      ? null
      : (acc, src, op) => {
          native.reduce(
            NATIVE_DTYPE_CODE[dtypeOf(acc)!],
            NATIVE_OP_CODE[op === 'avg' ? 'sum' : op],
            0,
            acc,
            null,
            [acc, src],
          );
        };
  return chosen;
}
