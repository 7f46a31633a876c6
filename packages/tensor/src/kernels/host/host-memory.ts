import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

type TypedArray = Float32Array | Int32Array;

/**
 * The two things a host kernel needs from a backend that keeps tensors in
 * host memory: a view of an input's data and a fresh output to write into.
 * `cpu` keeps JS typed arrays; `wasm` keeps tensors in its heap, so the views
 * are over `WebAssembly.Memory` and no copy is made on either.
 */
export interface HostMemory {
  /** Typed view of a tensor's data. */
  view(t: TensorInfo): TypedArray;
  /**
   * Allocate outputs and then call `fill` with their views. Views of inputs
   * must be taken inside `fill`: allocating can grow (and move) the wasm heap.
   */
  allocate(
    specs: ReadonlyArray<{ shape: number[]; dtype: DataType }>,
    fill: (views: TypedArray[]) => void,
  ): TensorInfo[];
}

interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values: TypedArray): TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

/** Host memory of the tfjs `cpu` backend. */
export function cpuHostMemory(backend: unknown): HostMemory {
  const b = backend as CpuBackendLike;
  return {
    view: (t) => b.data.get(t.dataId).values as TypedArray,
    allocate(specs, fill) {
      const views = specs.map((s) => {
        const size = s.shape.reduce((a, d) => a * d, 1);
        return s.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
      });
      fill(views);
      return specs.map((s, i) => b.makeTensorInfo(s.shape, s.dtype, views[i]!));
    },
  };
}

/** Host memory of the tfjs `wasm` backend (views into the wasm heap). */
export function wasmHostMemory(backend: unknown): HostMemory {
  const b = backend as WasmBackendLike;
  return {
    view: (t) => b.typedArrayFromHeap(t),
    allocate(specs, fill) {
      const outs = specs.map((s) => b.makeOutput(s.shape, s.dtype));
      fill(outs.map((o) => b.typedArrayFromHeap(o)));
      return outs;
    },
  };
}
