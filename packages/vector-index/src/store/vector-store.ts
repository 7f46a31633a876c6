import { VectorIndexError } from '../errors.js';
import { createJsKernel } from '../kernel/js-kernel.js';
import type { DistanceKernel } from '../kernel/kernel.js';
import { type WasmMemory, wasmApi } from '../kernel/wasm-api.js';
import { createWasmKernel, wasmKernelAvailable } from '../kernel/wasm-kernel.js';
import type { Metric } from '../metric.js';

/** Which distance kernel to use: `auto` picks wasm SIMD where available. */
export type KernelChoice = 'auto' | 'wasm' | 'js';

/** Entries in each thread's id/distance scratch lists (also the brute-force chunk). */
export const SCRATCH_ENTRIES = 1024;

const PAGE = 65536;
const MAX_PAGES = 65536;

/** What a store is made of; enough to re-attach to its buffer in a worker. */
export interface StoreShape {
  readonly dim: number;
  readonly metric: Metric;
  readonly capacity: number;
  /** Scratch slots: one per thread that searches this store at the same time. */
  readonly slots: number;
  readonly kernel: 'wasm' | 'js';
}

/** The buffer a store lives in: a shared wasm memory, or a plain SharedArrayBuffer for the JS kernel. */
export type StoreMemory = WasmMemory | SharedArrayBuffer;

const align16 = (n: number): number => (n + 15) & ~15;

/**
 * All vectors of an index in one contiguous float32 buffer, plus per-thread
 * scratch space for the query and for batches of ids and distances. The
 * distance kernel reads only this buffer, so the graph code passes it byte
 * addresses instead of arrays. Vectors are padded to a multiple of 4 floats
 * so the SIMD kernel has no scalar tail; cosine vectors are normalised here.
 */
export class VectorStore {
  readonly dim: number;
  readonly paddedDim: number;
  readonly metric: Metric;
  readonly capacity: number;
  readonly slots: number;
  readonly memory: StoreMemory;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly kernel: DistanceKernel;
  /** Byte address of vector 0. */
  readonly vectorBase: number;
  private readonly slotBytes: number;

  private constructor(shape: StoreShape, memory: StoreMemory | null) {
    this.dim = shape.dim;
    this.paddedDim = (shape.dim + 3) & ~3;
    this.metric = shape.metric;
    this.capacity = shape.capacity;
    this.slots = shape.slots;
    this.slotBytes = align16(this.paddedDim * 4) + 2 * SCRATCH_ENTRIES * 4;
    this.vectorBase = align16(this.slots * this.slotBytes);
    const bytes = this.vectorBase + this.capacity * this.paddedDim * 4;
    if (memory === null) {
      const pages = Math.max(1, Math.ceil(bytes / PAGE));
      if (pages > MAX_PAGES) {
        throw new VectorIndexError(
          'store',
          `capacity ${shape.capacity} x dimension ${shape.dim} needs ${bytes} bytes; expected at most 4 GiB`,
        );
      }
      memory =
        shape.kernel === 'wasm' && wasmApi
          ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true })
          : new SharedArrayBuffer(pages * PAGE);
    }
    this.memory = memory;
    const buffer = memory instanceof SharedArrayBuffer ? memory : memory.buffer;
    this.f32 = new Float32Array(buffer);
    this.i32 = new Int32Array(buffer);
    const layout = { metric: this.metric, paddedDim: this.paddedDim, vectorBase: this.vectorBase };
    this.kernel =
      memory instanceof SharedArrayBuffer
        ? createJsKernel(buffer, layout)
        : createWasmKernel(memory, layout);
  }

  /** A new, zeroed store. */
  static create(
    dim: number,
    metric: Metric,
    capacity: number,
    slots: number,
    kernel: KernelChoice,
  ): VectorStore {
    let kind: 'wasm' | 'js';
    if (kernel === 'js') kind = 'js';
    else if (wasmKernelAvailable()) kind = 'wasm';
    else if (kernel === 'wasm') {
      throw new VectorIndexError(
        'store',
        'kernel "wasm" requested but WebAssembly SIMD is unavailable',
      );
    } else kind = 'js';
    return new VectorStore({ dim, metric, capacity, slots, kernel: kind }, null);
  }

  /** Re-attach to a store's memory in another thread. */
  static attach(shape: StoreShape, memory: StoreMemory): VectorStore {
    return new VectorStore(shape, memory);
  }

  /** The facts needed to re-attach in a worker. */
  get shape(): StoreShape {
    return {
      dim: this.dim,
      metric: this.metric,
      capacity: this.capacity,
      slots: this.slots,
      kernel: this.kernel.kind,
    };
  }

  /** Bytes held by the buffer. */
  get byteLength(): number {
    return this.f32.byteLength;
  }

  /** A store with room for `capacity` vectors and `slots` threads, holding the first `count` vectors of this one. */
  resized(capacity: number, slots: number, count: number): VectorStore {
    const next = new VectorStore({ ...this.shape, capacity, slots }, null);
    const words = count * this.paddedDim;
    next.f32.set(
      this.f32.subarray(this.vectorBase >> 2, (this.vectorBase >> 2) + words),
      next.vectorBase >> 2,
    );
    return next;
  }

  /** Byte address of vector `id`. */
  vectorAddress(id: number): number {
    return this.vectorBase + id * this.paddedDim * 4;
  }

  /** Byte address of scratch slot `slot`'s query vector. */
  queryAddress(slot: number): number {
    return slot * this.slotBytes;
  }

  /** Byte address of scratch slot `slot`'s int32 id list. */
  idsAddress(slot: number): number {
    return slot * this.slotBytes + align16(this.paddedDim * 4);
  }

  /** Byte address of scratch slot `slot`'s float32 distance list. */
  outAddress(slot: number): number {
    return this.idsAddress(slot) + SCRATCH_ENTRIES * 4;
  }

  /** Copy a checked vector into the store as vector `id`. */
  writeVector(module: string, id: number, src: ArrayLike<number>, offset = 0): void {
    this.writeAt(module, this.vectorAddress(id) >> 2, src, offset);
  }

  /** Copy a checked query into slot `slot`; returns its byte address. */
  writeQuery(module: string, slot: number, src: ArrayLike<number>): number {
    const address = this.queryAddress(slot);
    this.writeAt(module, address >> 2, src, 0);
    return address;
  }

  /** Copy slot `slot`'s query (already checked and normalised) into vector `id`. */
  commitQuery(slot: number, id: number): void {
    const from = this.queryAddress(slot) >> 2;
    this.f32.copyWithin(this.vectorAddress(id) >> 2, from, from + this.paddedDim);
  }

  /** A copy of vector `id` (normalised, for cosine), without padding. */
  readVector(id: number): Float32Array {
    const start = this.vectorAddress(id) >> 2;
    return this.f32.slice(start, start + this.dim);
  }

  private writeAt(module: string, at: number, src: ArrayLike<number>, offset: number): void {
    const f32 = this.f32;
    const dim = this.dim;
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      const v = src[offset + i]!;
      // Also catches ±Infinity: either would poison every distance it touches.
      if (!Number.isFinite(v)) {
        throw new VectorIndexError(
          module,
          `vector component ${i} is ${v}; expected finite numbers (no NaN or Infinity)`,
        );
      }
      f32[at + i] = v;
      sq += v * v;
    }
    for (let i = dim; i < this.paddedDim; i++) f32[at + i] = 0;
    if (this.metric === 'cosine') {
      if (sq === 0) {
        throw new VectorIndexError(module, 'cosine metric needs a non-zero vector; got all zeros');
      }
      const inv = 1 / Math.sqrt(sq);
      for (let i = 0; i < dim; i++) f32[at + i] = f32[at + i]! * inv;
    }
  }
}
