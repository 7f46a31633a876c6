import type { ReduceOp } from '../types.js';
import type { DTypeName } from './dtype.js';

/** The element-wise ops the wasm kernel exports (`avg` runs as `sum`). */
export type KernelOp = Exclude<ReduceOp, 'avg'>;

/** Every (dtype, op) the module exports, as `${dtype}_${op}(acc, src, n)`. */
export const KERNEL_DTYPES: readonly DTypeName[] = ['f32', 'f64', 'i32', 'i64', 'u8'];
export const KERNEL_OPS: readonly KernelOp[] = ['sum', 'prod', 'min', 'max'];

interface TypeInfo {
  /** Bytes per element. */
  size: number;
  /** log2 of the SIMD lane count (16 bytes / size). */
  laneShift: number;
  /** Value type of the scalar locals. */
  valType: number;
  load: number[];
  store: number[];
  scalar: Record<KernelOp, number[] | 'select-lt' | 'select-gt'>;
  /** SIMD opcode (after the 0xfd prefix) or null where wasm SIMD has none. */
  simd: Record<KernelOp, number | null>;
  lt: number;
  gt: number;
}

const I32 = 0x7f;
const I64 = 0x7e;
const F32 = 0x7d;
const F64 = 0x7c;

// Opcodes from the WebAssembly core spec (2.0) and its SIMD proposal.
const TYPES: Record<DTypeName, TypeInfo> = {
  f32: {
    size: 4,
    laneShift: 2,
    valType: F32,
    load: [0x2a, 2, 0],
    store: [0x38, 2, 0],
    scalar: { sum: [0x92], prod: [0x94], min: [0x96], max: [0x97] },
    simd: { sum: 0xe4, prod: 0xe6, min: 0xe8, max: 0xe9 },
    lt: 0,
    gt: 0,
  },
  f64: {
    size: 8,
    laneShift: 1,
    valType: F64,
    load: [0x2b, 3, 0],
    store: [0x39, 3, 0],
    scalar: { sum: [0xa0], prod: [0xa2], min: [0xa4], max: [0xa5] },
    simd: { sum: 0xf0, prod: 0xf2, min: 0xf4, max: 0xf5 },
    lt: 0,
    gt: 0,
  },
  i32: {
    size: 4,
    laneShift: 2,
    valType: I32,
    load: [0x28, 2, 0],
    store: [0x36, 2, 0],
    scalar: { sum: [0x6a], prod: [0x6c], min: 'select-lt', max: 'select-gt' },
    simd: { sum: 0xae, prod: 0xb5, min: 0xb6, max: 0xb8 },
    lt: 0x48,
    gt: 0x4a,
  },
  i64: {
    size: 8,
    laneShift: 1,
    valType: I64,
    load: [0x29, 3, 0],
    store: [0x37, 3, 0],
    scalar: { sum: [0x7c], prod: [0x7e], min: 'select-lt', max: 'select-gt' },
    // i64x2 has add and mul but no min/max.
    simd: { sum: 0xce, prod: 0xd5, min: null, max: null },
    lt: 0x53,
    gt: 0x55,
  },
  u8: {
    size: 1,
    laneShift: 4,
    valType: I32,
    load: [0x2d, 0, 0],
    store: [0x3a, 0, 0],
    scalar: { sum: [0x6a], prod: [0x6c], min: 'select-lt', max: 'select-gt' },
    // i8x16 has add, min_u, max_u but no mul.
    simd: { sum: 0x6e, prod: null, min: 0x77, max: 0x79 },
    lt: 0x49,
    gt: 0x4b,
  },
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// Locals: 0 acc, 1 src, 2 n (params, i32 byte offsets / count), 3 k (i32), 4 x, 5 y (element type).
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32c = (v: number) => [0x41, ...sleb(v)];
const advance = (local: number, by: number) => [...get(local), ...i32c(by), 0x6a, ...set(local)];

/** Body of `${dtype}_${op}(acc, src, n)`: SIMD over whole vectors, scalar tail. */
function functionBody(t: TypeInfo, op: KernelOp): number[] {
  const code: number[] = [];
  const simd = t.simd[op];
  const lanes = 1 << t.laneShift;
  if (simd !== null) {
    // k = n >> laneShift; while (k--) *acc = op(*acc, *src) over v128.
    code.push(...get(2), ...i32c(t.laneShift), 0x76, ...set(3));
    code.push(0x02, 0x40, ...get(3), 0x45, 0x0d, 0); // block; br_if k == 0
    code.push(0x03, 0x40); // loop
    code.push(...get(0), ...get(0), 0xfd, 0x00, 4, 0, ...get(1), 0xfd, 0x00, 4, 0);
    code.push(0xfd, ...uleb(simd), 0xfd, 0x0b, 4, 0);
    code.push(...advance(0, 16), ...advance(1, 16));
    code.push(...get(3), ...i32c(1), 0x6b, 0x22, 3, 0x0d, 0); // k -= 1; br_if loop
    code.push(0x0b, 0x0b); // end loop, end block
    code.push(...get(2), ...i32c(lanes - 1), 0x71, ...set(3)); // k = n & (lanes - 1)
  } else {
    code.push(...get(2), ...set(3));
  }
  code.push(0x02, 0x40, ...get(3), 0x45, 0x0d, 0);
  code.push(0x03, 0x40);
  code.push(...get(0)); // store address
  const scalar = t.scalar[op];
  if (Array.isArray(scalar)) {
    code.push(...get(0), ...t.load, ...get(1), ...t.load, ...scalar);
  } else {
    // x = *acc; y = *src; select(y, x, y < x) for min (y > x for max).
    code.push(...get(0), ...t.load, ...set(4), ...get(1), ...t.load, ...set(5));
    code.push(...get(5), ...get(4), ...get(5), ...get(4), scalar === 'select-lt' ? t.lt : t.gt);
    code.push(0x1b);
  }
  code.push(...t.store);
  code.push(...advance(0, t.size), ...advance(1, t.size));
  code.push(...get(3), ...i32c(1), 0x6b, 0x22, 3, 0x0d, 0);
  code.push(0x0b, 0x0b, 0x0b); // end loop, end block, end function
  const locals = vec([
    [1, I32],
    [2, t.valType],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * Encodes the reduction kernel module: for every dtype and op an export
 * `${dtype}_${op}(acc, src, n)` computing `acc[i] = acc[i] op src[i]` for
 * `n` elements at byte offsets `acc`, `src` of the imported memory
 * `env.memory` (a shared memory with `shared: true`). Emitted from this
 * encoder instead of a checked-in binary, so the bytes and their source
 * cannot drift apart.
 */
export function encodeReductionModule(options: { shared?: boolean } = {}): Uint8Array {
  const names: string[] = [];
  const bodies: number[][] = [];
  for (const d of KERNEL_DTYPES) {
    for (const op of KERNEL_OPS) {
      names.push(`${d}_${op}`);
      bodies.push(functionBody(TYPES[d], op));
    }
  }
  const type = section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([])]]));
  // Memory limits: unshared {min 1}, or shared {min 1, max 65536 pages}
  // (threads proposal: flag 0x03), so a SharedArrayBuffer-backed memory of
  // any size can be imported.
  const limits = options.shared ? [0x03, 0x01, ...uleb(65536)] : [0x00, 0x01];
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec(names.map(() => [0])));
  const exports = section(7, vec(names.map((n, i) => [...str(n), 0x00, ...uleb(i)])));
  const code = section(10, [...uleb(bodies.length), ...bodies.flat()]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...type,
    ...imports,
    ...funcs,
    ...exports,
    ...code,
  ]);
}
