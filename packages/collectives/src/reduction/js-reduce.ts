import type { ReduceOp } from '../types.js';
import type { ElementArray } from './dtype.js';

/**
 * `acc[i] = acc[i] (op) src[i]` for `i < acc.length`, as plain JS loops over
 * every supported element type. `avg` accumulates like `sum`; call
 * `finishAverage` once at the end.
 *
 * Float32 sums and products computed in float64 and rounded once equal the
 * float32 operation exactly (double has more than 2*24+2 bits), so this
 * fallback and the wasm kernel give bit-identical results. Integer results
 * wrap to the element type: Int32 via `Math.imul`/ToInt32, BigInt64 modulo
 * 2^64, Uint8 modulo 256. `min`/`max` propagate NaN and order -0 below +0,
 * like wasm's `f32.min`.
 */
export function jsReduceInto(acc: ElementArray, src: ElementArray, op: ReduceOp): void {
  if (acc instanceof BigInt64Array) {
    reduceBigInt(acc, src as BigInt64Array, op);
    return;
  }
  const a = acc as Float64Array;
  const b = src as Float64Array;
  const n = a.length;
  switch (op) {
    case 'sum':
    case 'avg':
      for (let i = 0; i < n; i++) a[i] = a[i]! + b[i]!;
      break;
    case 'prod':
      if (acc instanceof Int32Array || acc instanceof Uint8Array) {
        // Math.imul keeps the low 32 bits exactly; a float product of two
        // int32s would lose them above 2^53.
        for (let i = 0; i < n; i++) a[i] = Math.imul(a[i]!, b[i]!);
      } else {
        for (let i = 0; i < n; i++) a[i] = a[i]! * b[i]!;
      }
      break;
    case 'min':
      for (let i = 0; i < n; i++) {
        const y = b[i]!;
        const x = a[i]!;
        // -0 below +0 and NaN winning, as wasm's f32.min / f64.min do.
        if (y < x || Number.isNaN(y) || (y === 0 && x === 0 && 1 / y < 0)) a[i] = y;
      }
      break;
    case 'max':
      for (let i = 0; i < n; i++) {
        const y = b[i]!;
        const x = a[i]!;
        if (y > x || Number.isNaN(y) || (y === 0 && x === 0 && 1 / y > 0)) a[i] = y;
      }
      break;
  }
}

function reduceBigInt(a: BigInt64Array, b: BigInt64Array, op: ReduceOp): void {
  const n = a.length;
  switch (op) {
    case 'sum':
    case 'avg':
      for (let i = 0; i < n; i++) a[i] = a[i]! + b[i]!;
      break;
    case 'prod':
      for (let i = 0; i < n; i++) a[i] = a[i]! * b[i]!;
      break;
    case 'min':
      for (let i = 0; i < n; i++) if (b[i]! < a[i]!) a[i] = b[i]!;
      break;
    case 'max':
      for (let i = 0; i < n; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
      break;
  }
}

/**
 * Divides a summed buffer by `count` in place. Integer types truncate toward
 * zero (`-7 / 2 = -3`), and divide the already-wrapped sum: a Uint8 `avg`
 * whose sum passed 255 is the wrapped sum divided, not the true mean.
 */
export function finishAverage(acc: ElementArray, count: number): void {
  if (acc instanceof BigInt64Array) {
    const c = BigInt(count);
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! / c;
    return;
  }
  const a = acc as Float64Array;
  if (acc instanceof Int32Array || acc instanceof Uint8Array) {
    for (let i = 0; i < a.length; i++) a[i] = Math.trunc(a[i]! / count);
  } else {
    for (let i = 0; i < a.length; i++) a[i] = a[i]! / count;
  }
}
