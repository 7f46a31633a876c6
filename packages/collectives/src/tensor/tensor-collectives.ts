import type { DataType, Tensor } from '@tensorflow/tfjs-core';
import { PlexusCollectivesError } from '../errors.js';
import type {
  AsyncCallOptions,
  CollectiveCallOptions,
  CollectiveGroupV1,
  ReduceOp,
  Work,
} from '../types.js';

const MODULE = 'tensor/tensor-collectives';

type TfCore = typeof import('@tensorflow/tfjs-core');

let tfCore: Promise<TfCore> | undefined;

/**
 * `@tensorflow/tfjs-core` is an optional peer dependency: it is loaded on the
 * first tensor collective, so the rest of the package works without it.
 */
function loadTf(): Promise<TfCore> {
  tfCore ??= import('@tensorflow/tfjs-core').catch((error: unknown) => {
    tfCore = undefined;
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'tensor collectives need the optional peer dependency @tensorflow/tfjs-core (4.22.0); install it or pass typed arrays to the group instead',
      { cause: error },
    );
  });
  return tfCore;
}

/**
 * A copy of the tensor's elements as the typed array the group moves. The
 * read is synchronous on purpose: the collective is then queued at call
 * time, so tensor calls keep their issue order relative to other calls on
 * the group. The copy keeps the input tensor's backing store untouched.
 */
function readElements(name: string, tensor: Tensor): Float32Array | Int32Array {
  if (
    typeof tensor !== 'object' ||
    tensor === null ||
    !Array.isArray(tensor.shape) ||
    typeof tensor.dataSync !== 'function'
  ) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name} to be a tfjs / @plexus/tensor Tensor, got ${tensor === null ? 'null' : typeof tensor}`,
    );
  }
  if (tensor.isDisposed) {
    throw new PlexusCollectivesError(MODULE, 'invalid-argument', `${name} is already disposed`);
  }
  const data = tensor.dataSync();
  if (tensor.dtype === 'float32') return Float32Array.from(data as Float32Array);
  if (tensor.dtype === 'int32') return Int32Array.from(data as Int32Array);
  throw new PlexusCollectivesError(
    MODULE,
    'invalid-argument',
    `expected ${name} to have dtype float32 or int32, got ${tensor.dtype}`,
  );
}

function leadingDim(name: string, tensor: Tensor, worldSize: number, what: string): number {
  const rows = tensor.shape[0];
  if (rows === undefined || rows % worldSize !== 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `${what}: expected ${name} to have rank >= 1 and a first dimension divisible by worldSize ${worldSize}, got shape [${tensor.shape.join(', ')}]`,
    );
  }
  return rows;
}

async function toTensor(
  data: Float32Array | Int32Array,
  shape: readonly number[],
  dtype: DataType,
): Promise<Tensor> {
  const tf = await loadTf();
  return tf.tensor(data, [...shape], dtype);
}

type Elements = Float32Array | Int32Array;

/**
 * A tensor `Work` over an array `Work`. The result tensor is made on the
 * first `wait()` (and reused by later ones), so a handle that is never
 * waited on allocates no tensor.
 */
class TensorWork implements Work<Tensor> {
  private result: Promise<Tensor> | undefined;

  constructor(
    private readonly inner: Work<Elements>,
    private readonly shape: readonly number[],
    private readonly dtype: DataType,
  ) {}

  wait(): Promise<Tensor> {
    this.result ??= this.inner.wait().then((out) => toTensor(out, this.shape, this.dtype));
    return this.result;
  }

  isCompleted(): boolean {
    return this.inner.isCompleted();
  }

  isSuccess(): boolean {
    return this.inner.isSuccess();
  }
}

/** Options of the tensor collectives: a per-call timeout, and `async: true` for a `Work` handle. */
export type TensorCallOptions = CollectiveCallOptions & { async?: boolean };

/**
 * Issues `start` as an async group call (so it is queued now) and shapes the
 * answer as the caller asked: a `Work` for `{ async: true }`, else a promise.
 */
function finish(
  options: TensorCallOptions | undefined,
  start: (o: AsyncCallOptions) => Work<Elements>,
  shape: readonly number[],
  dtype: DataType,
): Promise<Tensor> | Work<Tensor> {
  const work = new TensorWork(start({ ...options, async: true }), shape, dtype);
  return options?.async === true ? work : work.wait();
}

/**
 * Bad input rejects the returned promise, as an `async` function would; with
 * `{ async: true }` it throws at call time, as the group methods do.
 */
function guard(
  options: TensorCallOptions | undefined,
  body: () => Promise<Tensor> | Work<Tensor>,
): Promise<Tensor> | Work<Tensor> {
  if (options?.async === true) return body();
  try {
    return body();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * All-reduce of a float32 or int32 tensor: a new tensor of the same shape and
 * dtype holding the element-wise reduction over all ranks. The input is not
 * modified or disposed; the caller owns the result.
 */
export function allReduceTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options: AsyncCallOptions,
): Work<Tensor>;
export function allReduceTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: CollectiveCallOptions,
): Promise<Tensor>;
export function allReduceTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: TensorCallOptions,
): Promise<Tensor> | Work<Tensor> {
  return guard(options, () => {
    const buf = readElements('tensor', tensor);
    return finish(options, (o) => group.allReduce(buf, op, o), tensor.shape, tensor.dtype);
  });
}

/** Broadcast from `root`: a new tensor of the same shape and dtype holding `root`'s values. */
export function broadcastTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  root: number,
  options: AsyncCallOptions,
): Work<Tensor>;
export function broadcastTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  root: number,
  options?: CollectiveCallOptions,
): Promise<Tensor>;
export function broadcastTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  root: number,
  options?: TensorCallOptions,
): Promise<Tensor> | Work<Tensor> {
  return guard(options, () => {
    const buf = readElements('tensor', tensor);
    return finish(options, (o) => group.broadcast(buf, root, o), tensor.shape, tensor.dtype);
  });
}

/**
 * All-gather along the first axis (torch's `all_gather_into_tensor`): every
 * rank's tensor, in rank order, concatenated on axis 0; a scalar gathers to
 * shape `[worldSize]`. All ranks must pass the same shape.
 */
export function allGatherTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options: AsyncCallOptions,
): Work<Tensor>;
export function allGatherTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: CollectiveCallOptions,
): Promise<Tensor>;
export function allGatherTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: TensorCallOptions,
): Promise<Tensor> | Work<Tensor> {
  return guard(options, () => {
    const buf = readElements('tensor', tensor);
    const [rows, ...rest] = tensor.shape;
    const shape = rows === undefined ? [group.worldSize] : [rows * group.worldSize, ...rest];
    return finish(options, (o) => group.allGather(buf, o), shape, tensor.dtype);
  });
}

/**
 * Reduce-scatter along the first axis (torch's `reduce_scatter_tensor`): the
 * reduction over all ranks, of which rank `r` keeps rows
 * `[r * rows / worldSize, (r + 1) * rows / worldSize)`. The first dimension
 * must be divisible by the world size.
 */
export function reduceScatterTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options: AsyncCallOptions,
): Work<Tensor>;
export function reduceScatterTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: CollectiveCallOptions,
): Promise<Tensor>;
export function reduceScatterTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: TensorCallOptions,
): Promise<Tensor> | Work<Tensor> {
  return guard(options, () => {
    const buf = readElements('tensor', tensor);
    const rows = leadingDim('tensor', tensor, group.worldSize, 'reduceScatterTensor');
    const shape = [rows / group.worldSize, ...tensor.shape.slice(1)];
    return finish(options, (o) => group.reduceScatter(buf, op, o), shape, tensor.dtype);
  });
}

/**
 * All-to-all along the first axis (torch's `all_to_all_single` with equal
 * splits): row block `j` goes to rank `j`; row block `j` of the result came
 * from rank `j`. Same shape and dtype as the input.
 */
export function allToAllTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options: AsyncCallOptions,
): Work<Tensor>;
export function allToAllTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: CollectiveCallOptions,
): Promise<Tensor>;
export function allToAllTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: TensorCallOptions,
): Promise<Tensor> | Work<Tensor> {
  return guard(options, () => {
    const buf = readElements('tensor', tensor);
    leadingDim('tensor', tensor, group.worldSize, 'allToAllTensor');
    return finish(options, (o) => group.allToAll(buf, o), tensor.shape, tensor.dtype);
  });
}
