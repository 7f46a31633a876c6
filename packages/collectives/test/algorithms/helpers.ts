import type { Topology } from '../../src/algorithms/topology.js';
import type { ElementArray } from '../../src/reduction/dtype.js';
import { createInMemoryNetwork, type InMemoryNetwork } from '../../src/transport/in-memory.js';
import type { PointToPointV1 } from '../../src/transport/point-to-point.js';
import type { ReduceOp } from '../../src/types.js';

export type DType = 'f32' | 'f64' | 'i32' | 'i64' | 'u8';
export const DTYPES: readonly DType[] = ['f32', 'f64', 'i32', 'i64', 'u8'];
export const OPS: readonly ReduceOp[] = ['sum', 'prod', 'min', 'max', 'avg'];

/** Mulberry32: small seeded PRNG so every run sees the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random data per rank; float products stay in range by drawing from [0.5, 1.5]. */
export function makeData(dtype: DType, op: ReduceOp, length: number, rank: number, seed = 1) {
  const rand = rng(seed * 7919 + rank * 104729 + length);
  switch (dtype) {
    case 'f32':
    case 'f64': {
      const a = dtype === 'f32' ? new Float32Array(length) : new Float64Array(length);
      for (let i = 0; i < length; i++) a[i] = op === 'prod' ? 0.5 + rand() : rand() * 200 - 100;
      return a;
    }
    case 'i32': {
      const a = new Int32Array(length);
      for (let i = 0; i < length; i++) a[i] = Math.floor(rand() * 4294967296) | 0;
      return a;
    }
    case 'i64': {
      const a = new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        a[i] = BigInt.asIntN(
          64,
          (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32)),
        );
      }
      return a;
    }
    case 'u8': {
      const a = new Uint8Array(length);
      for (let i = 0; i < length; i++) a[i] = Math.floor(rand() * 256);
      return a;
    }
  }
}

/**
 * Sequential reference, element by element, independent of the library's
 * kernels: floats folded in float64 in rank order; integers with exact
 * BigInt arithmetic reduced modulo the type's width at the end (wrapping
 * sum and product are exact modulo 2^k whatever the order).
 */
export function reference(
  dtype: DType,
  op: ReduceOp,
  inputs: ElementArray[],
): Float64Array | bigint[] {
  const n = inputs[0]!.length;
  const p = inputs.length;
  if (dtype === 'f32' || dtype === 'f64') {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = Number(inputs[0]![i]);
      for (let r = 1; r < p; r++) {
        const v = Number(inputs[r]![i]);
        if (op === 'sum' || op === 'avg') acc += v;
        else if (op === 'prod') acc *= v;
        else if (op === 'min') acc = Math.min(acc, v);
        else acc = Math.max(acc, v);
      }
      out[i] = op === 'avg' ? acc / p : acc;
    }
    return out;
  }
  if ((dtype === 'i32' || dtype === 'u8') && op === 'prod' && n > 4096) {
    // Large inputs: Math.imul is the exact product modulo 2^32 (ECMA-262), so
    // the low bits are exact for both; small inputs take the BigInt path below.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = Number(inputs[0]![i]);
      for (let r = 1; r < p; r++) acc = Math.imul(acc, Number(inputs[r]![i]));
      out[i] = dtype === 'i32' ? acc : acc & 255;
    }
    return out;
  }
  if ((dtype === 'i32' || dtype === 'u8') && op !== 'prod') {
    // Sums of up to 8 int32 values are exact in float64; wrap once at the end.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = Number(inputs[0]![i]);
      for (let r = 1; r < p; r++) {
        const v = Number(inputs[r]![i]);
        if (op === 'sum' || op === 'avg') acc += v;
        else if (op === 'min') acc = Math.min(acc, v);
        else acc = Math.max(acc, v);
      }
      const wrapped = dtype === 'i32' ? acc | 0 : acc & 255;
      out[i] = op === 'avg' ? Math.trunc(wrapped / p) : wrapped;
    }
    return out;
  }
  const bits = dtype === 'i32' ? 32 : dtype === 'i64' ? 64 : 8;
  const wrap = (v: bigint) => (dtype === 'u8' ? BigInt.asUintN(bits, v) : BigInt.asIntN(bits, v));
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let acc = BigInt(inputs[0]![i]!);
    for (let r = 1; r < p; r++) {
      const v = BigInt(inputs[r]![i]!);
      if (op === 'sum' || op === 'avg') acc += v;
      else if (op === 'prod') acc *= v;
      else if (op === 'min') acc = v < acc ? v : acc;
      else acc = v > acc ? v : acc;
    }
    acc = wrap(acc);
    out.push(op === 'avg' ? acc / BigInt(p) : acc); // BigInt division truncates toward zero
  }
  return out;
}

/** Checks `actual` against the reference: exact for integers, relative tolerance for floats. */
export function expectMatches(
  dtype: DType,
  op: ReduceOp,
  actual: ElementArray,
  expected: Float64Array | bigint[],
  p: number,
): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  const tol = dtype === 'f32' ? 2e-6 * p : 1e-13 * p;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (dtype !== 'f32' && dtype !== 'f64') {
      const same = typeof e === 'bigint' ? BigInt(a) === e : Number(a) === e;
      if (!same) return `[${i}] ${a} != ${e}`;
    } else {
      const x = Number(e);
      const scale = op === 'sum' || op === 'avg' ? 100 * p : Math.max(1, Math.abs(x));
      if (!(Math.abs(Number(a) - x) <= tol * scale)) return `[${i}] ${a} != ${e}`;
    }
  }
  return undefined;
}

/** Runs `body` on every endpoint of a fresh in-memory network and returns the results by rank. */
export async function onNetwork<R>(
  worldSize: number,
  body: (p2p: PointToPointV1, rank: number) => Promise<R>,
  topology?: Topology,
): Promise<{ results: R[]; net: InMemoryNetwork }> {
  const net = createInMemoryNetwork(worldSize, { topology });
  const results = await Promise.all(net.endpoints.map((p2p, r) => body(p2p, r)));
  return { results, net };
}

/** True when every array equals the first bit for bit. */
export function allIdentical(arrays: ElementArray[]): boolean {
  const first = new Uint8Array(arrays[0]!.buffer, arrays[0]!.byteOffset, arrays[0]!.byteLength);
  return arrays.every((a) => {
    const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return b.length === first.length && b.every((v, i) => v === first[i]);
  });
}
