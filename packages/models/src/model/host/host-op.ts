import * as tf from '@tensorflow/tfjs-core';

/**
 * Fills the outputs of a host op from its inputs. The views are over the
 * backend's own memory (the wasm heap, or the cpu backend's arrays), taken
 * after every output was allocated; the body must write every output value
 * and must not create tensors (allocating could move the wasm heap).
 */
export type HostBody = (inputs: Float32Array[], outputs: Float32Array[]) => void;

interface HostAttrs {
  readonly shapes: readonly (readonly number[])[];
  readonly body: HostBody;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

function inputList(inputs: tf.NamedTensorInfoMap): tf.TensorInfo[] {
  const n = Object.keys(inputs).length;
  return Array.from({ length: n }, (_, i) => inputs[i]!);
}

const wasmKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as unknown as WasmBackendLike;
  const { shapes, body } = attrs as unknown as HostAttrs;
  const outs = shapes.map((s) => b.makeOutput([...s], 'float32'));
  body(
    inputList(inputs).map((t) => b.typedArrayFromHeap(t)),
    outs.map((o) => b.typedArrayFromHeap(o)),
  );
  return outs;
};

const cpuKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = backend as unknown as CpuBackendLike;
  const { shapes, body } = attrs as unknown as HostAttrs;
  const views = shapes.map((s) => new Float32Array(s.reduce((a, d) => a * d, 1)));
  body(
    inputList(inputs).map((t) => b.data.get(t.dataId).values as Float32Array),
    views,
  );
  return shapes.map((s, i) => b.makeTensorInfo([...s], 'float32', views[i]!));
};

const registered = new Set<string>();

/** Whether the active backend keeps tensors in host memory (wasm, cpu), where host ops run. */
export function onHost(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

/**
 * Run `body` as the kernel `name` on the active host backend (wasm or cpu):
 * float32 inputs in, float32 outputs of the given shapes out, one kernel
 * launch, reading and writing the backend's memory in place. Used for the
 * model's data movement (row gathers, column splits, unstacking and
 * stacking the attention's per-group operands): tfjs-backend-wasm's Slice
 * and SplitV copy their whole input once per piece, its GatherV2 moves one
 * element at a time, and reading a tensor to JS and uploading the pieces
 * leaves megabytes of garbage per step. Arithmetic stays in tfjs kernels:
 * JS loops over the same elements measured slower than the SIMD kernels
 * they would replace. The kernel is registered for `cpu` and `wasm` on
 * first use; callers check {@link onHost} first.
 */
export function runHostOp(
  name: string,
  inputs: readonly tf.Tensor[],
  shapes: readonly (readonly number[])[],
  body: HostBody,
): tf.Tensor[] {
  if (!registered.has(name)) {
    registered.add(name);
    for (const [backendName, kernelFunc] of [
      ['wasm', wasmKernel],
      ['cpu', cpuKernel],
    ] as const)
      if (tf.getKernel(name, backendName) === undefined)
        tf.registerKernel({ kernelName: name, backendName, kernelFunc });
  }
  const map: tf.NamedTensorMap = {};
  inputs.forEach((t, i) => {
    map[i] = t;
  });
  const attrs: HostAttrs = { shapes, body };
  return tf.engine().runKernel(name, map, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
