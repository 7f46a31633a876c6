import type { DataType, Tensor } from '@tensorflow/tfjs-core';
import { PlexusCollectivesError } from '../errors.js';
import type { CollectiveCallOptions, CollectiveGroupV1, ReduceOp } from '../types.js';

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

/**
 * All-reduce of a float32 or int32 tensor: a new tensor of the same shape and
 * dtype holding the element-wise reduction over all ranks. The input is not
 * modified or disposed; the caller owns the result.
 */
export async function allReduceTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: CollectiveCallOptions,
): Promise<Tensor> {
  const buf = readElements('tensor', tensor);
  const out = await group.allReduce(buf, op, options);
  return toTensor(out, tensor.shape, tensor.dtype);
}

/** Broadcast from `root`: a new tensor of the same shape and dtype holding `root`'s values. */
export async function broadcastTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  root: number,
  options?: CollectiveCallOptions,
): Promise<Tensor> {
  const buf = readElements('tensor', tensor);
  const out = await group.broadcast(buf, root, options);
  return toTensor(out, tensor.shape, tensor.dtype);
}

/**
 * All-gather along the first axis (torch's `all_gather_into_tensor`): every
 * rank's tensor, in rank order, concatenated on axis 0; a scalar gathers to
 * shape `[worldSize]`. All ranks must pass the same shape.
 */
export async function allGatherTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: CollectiveCallOptions,
): Promise<Tensor> {
  const buf = readElements('tensor', tensor);
  const out = await group.allGather(buf, options);
  const [rows, ...rest] = tensor.shape;
  const shape = rows === undefined ? [group.worldSize] : [rows * group.worldSize, ...rest];
  return toTensor(out, shape, tensor.dtype);
}

/**
 * Reduce-scatter along the first axis (torch's `reduce_scatter_tensor`): the
 * reduction over all ranks, of which rank `r` keeps rows
 * `[r * rows / worldSize, (r + 1) * rows / worldSize)`. The first dimension
 * must be divisible by the world size.
 */
export async function reduceScatterTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  op: ReduceOp,
  options?: CollectiveCallOptions,
): Promise<Tensor> {
  const rows = leadingDim('tensor', tensor, group.worldSize, 'reduceScatterTensor');
  const buf = readElements('tensor', tensor);
  const out = await group.reduceScatter(buf, op, options);
  return toTensor(out, [rows / group.worldSize, ...tensor.shape.slice(1)], tensor.dtype);
}

/**
 * All-to-all along the first axis (torch's `all_to_all_single` with equal
 * splits): row block `j` goes to rank `j`; row block `j` of the result came
 * from rank `j`. Same shape and dtype as the input.
 */
export async function allToAllTensor(
  group: CollectiveGroupV1,
  tensor: Tensor,
  options?: CollectiveCallOptions,
): Promise<Tensor> {
  leadingDim('tensor', tensor, group.worldSize, 'allToAllTensor');
  const buf = readElements('tensor', tensor);
  const out = await group.allToAll(buf, options);
  return toTensor(out, tensor.shape, tensor.dtype);
}
