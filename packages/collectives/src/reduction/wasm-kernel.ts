import { PlexusCollectivesError } from '../errors.js';
import type { ReduceOp } from '../types.js';
import { dtypeOf, type ElementArray } from './dtype.js';
import { jsReduceInto } from './js-reduce.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm-api.js';
import { encodeReductionModule, type KernelOp } from './wasm-encoder.js';

const MODULE = 'reduction/wasm';
const PAGE = 65536;

type KernelFn = (acc: number, src: number, n: number) => void;

/** Options of `createWasmReductionKernel`. */
export interface WasmReductionKernelOptions {
  /**
   * Bytes per operand staged through wasm memory at a time when the arrays
   * live outside it (default 64 KiB: both operands stay in L2).
   */
  chunkBytes?: number;
  /** Bytes reserved for `allocate` (zero-copy buffers inside wasm memory; default 0). */
  arenaBytes?: number;
  /**
   * Reduce inside this memory instead of a new one, e.g. a shared
   * `WebAssembly.Memory({ initial, maximum, shared: true })` whose
   * SharedArrayBuffer backs the worker-thread channels, so every thread
   * reduces in place. Arrays outside it then take the JS loop (the kernel
   * cannot know which bytes of a foreign memory are free for staging);
   * `allocate` is unavailable.
   */
  memory?: WasmMemory;
}

/**
 * The WebAssembly SIMD reduction kernel: `acc[i] = acc[i] op src[i]` with
 * 128-bit lanes (f32x4, f64x2, i32x4, i64x2 add/mul, i8x16 add/min/max) and
 * a scalar tail, for every element type. Results equal `jsReduceInto` bit
 * for bit (IEEE add/mul are exact-rounded both ways; min/max propagate NaN
 * and order -0 below +0), except that a NaN result may carry a different
 * sign bit (x86's default NaN is negative).
 */
export interface WasmReductionKernel {
  /** The kernel's memory; views from `allocate` live in it. */
  readonly memory: WasmMemory;
  /**
   * Reduces `src` into `acc`. Arrays inside `memory` are reduced in place;
   * others are staged through it chunk by chunk (two copies in, one out).
   */
  reduceInto(acc: ElementArray, src: ElementArray, op: ReduceOp): void;
  /** A zero-filled array inside `memory` (from the reserved arena), for zero-copy reductions. */
  allocate<T extends ElementArray>(
    ctor: new (buf: ArrayBuffer, off: number, n: number) => T,
    length: number,
  ): T;
}

const moduleCache = new Map<boolean, WasmModule | null>();

/**
 * The compiled kernel module (importing a shared memory with `shared`), or
 * null where WebAssembly SIMD (or shared memory) is unavailable.
 */
export function reductionModule(shared = false): WasmModule | null {
  if (!moduleCache.has(shared)) {
    let mod: WasmModule | null = null;
    try {
      mod = wasmApi ? new wasmApi.Module(encodeReductionModule({ shared })) : null;
    } catch {
      mod = null;
    }
    moduleCache.set(shared, mod);
  }
  return moduleCache.get(shared) ?? null;
}

/** True where the wasm SIMD kernel can run. */
export function wasmReductionAvailable(): boolean {
  return reductionModule() !== null;
}

/** Instantiates the kernel, or returns null where WebAssembly SIMD is unavailable. */
export function createWasmReductionKernel(
  options: WasmReductionKernelOptions = {},
): WasmReductionKernel | null {
  const external = options.memory;
  const shared =
    external !== undefined &&
    typeof SharedArrayBuffer !== 'undefined' &&
    external.buffer instanceof SharedArrayBuffer;
  const mod = reductionModule(shared);
  if (!mod || !wasmApi) return null;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const arenaBytes = options.arenaBytes ?? 0;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 16 || chunkBytes % 16 !== 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected chunkBytes to be a positive multiple of 16, got ${String(chunkBytes)}`,
    );
  }
  if (!Number.isInteger(arenaBytes) || arenaBytes < 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected arenaBytes to be a non-negative integer, got ${String(arenaBytes)}`,
    );
  }
  if (external && arenaBytes > 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'arenaBytes cannot be combined with an external memory (allocate inside it yourself)',
    );
  }
  const arenaStart = 2 * chunkBytes;
  // Sized once: growing a non-shared memory detaches every view into it.
  const pages = Math.max(1, Math.ceil((arenaStart + arenaBytes) / PAGE));
  const memory = external ?? new wasmApi.Memory({ initial: pages });
  const exports = new wasmApi.Instance(mod, { env: { memory } }).exports as Record<
    string,
    KernelFn
  >;
  let arenaNext = arenaStart;
  const arenaEnd = arenaStart + arenaBytes;

  const fnFor = (buf: ElementArray, op: ReduceOp): KernelFn => {
    const kop: KernelOp = op === 'avg' ? 'sum' : op;
    return exports[`${dtypeOf(buf)}_${kop}`]!;
  };

  return {
    memory,
    reduceInto(acc, src, op) {
      const n = acc.length;
      if (n === 0) return;
      const fn = fnFor(acc, op);
      const inside = memory.buffer;
      if (acc.buffer === inside && src.buffer === inside) {
        fn(acc.byteOffset, src.byteOffset, n);
        return;
      }
      if (external) {
        jsReduceInto(acc, src, op);
        return;
      }
      const bpe = acc.BYTES_PER_ELEMENT;
      const per = chunkBytes / bpe;
      const Ctor = acc.constructor as new (b: ArrayBuffer, o: number, n: number) => ElementArray;
      const a = new Ctor(inside as ArrayBuffer, 0, per) as Float64Array;
      const b = new Ctor(inside as ArrayBuffer, chunkBytes, per) as Float64Array;
      for (let start = 0; start < n; start += per) {
        const m = Math.min(per, n - start);
        const accPart = acc.subarray(start, start + m) as Float64Array;
        a.set(accPart);
        b.set(src.subarray(start, start + m) as Float64Array);
        fn(0, chunkBytes, m);
        accPart.set(m === per ? a : a.subarray(0, m));
      }
    },
    allocate(ctor, length) {
      const bpe = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      const start = Math.ceil(arenaNext / 16) * 16;
      if (!Number.isInteger(length) || length < 0 || start + length * bpe > arenaEnd) {
        throw new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `cannot allocate ${String(length)} elements: ${arenaEnd - start} arena bytes left (raise arenaBytes)`,
        );
      }
      arenaNext = start + length * bpe;
      return new ctor(memory.buffer as ArrayBuffer, start, length);
    },
  };
}
