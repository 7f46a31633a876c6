import { segmentBounds } from '../reduce.js';
import { NATIVE_OP_CODE as OP_CODE } from '../reduction/native-reduce.js';
import {
  type NativeRingPlan,
  RING_RECV_ROW as RECV_ROW,
  RING_SEND_ROW as SEND_ROW,
} from '../transport/tcp/native-peer.js';
import type { ReduceOp } from '../types.js';

type Range = readonly [start: number, end: number];

/** `[start, end)` cut into pieces of `chunkElems` elements (the last shorter). */
export function chunksOf(bounds: Range, chunkElems: number): Range[] {
  const out: Range[] = [];
  for (let a = bounds[0]; a < bounds[1]; a += chunkElems)
    out.push([a, Math.min(bounds[1], a + chunkElems)]);
  return out;
}

/**
 * The messages of rank `rank` of `size` in a pipelined ring all-reduce of
 * `length` elements of `bytesPerElement` bytes in chunks of `chunkElems`,
 * for native/ring_op.h. They come in the order the ring numbers them (the
 * order `ringAllReduce` sends and posts them), so a rank running this
 * natively and one running the JavaScript ring agree on every message.
 * Undefined where the blocks would not all have the same number of chunks
 * (a buffer shorter than the world, or one block a chunk longer than
 * another): the JavaScript ring handles those.
 */
export function ringSchedule(
  rank: number,
  size: number,
  length: number,
  bytesPerElement: number,
  chunkElems: number,
  op: ReduceOp,
): NativeRingPlan | undefined {
  if (size < 2) return undefined;
  const mod = (a: number) => ((a % size) + size) % size;
  const chunks = (block: number) => chunksOf(segmentBounds(length, size, block), chunkElems);
  const perBlock = chunks(0).length;
  if (perBlock === 0) return undefined;
  for (let b = 1; b < size; b++) if (chunks(b).length !== perBlock) return undefined;

  const steps = size - 1;
  const count = 2 * steps * perBlock;
  const recvs = new Float64Array(count * RECV_ROW);
  const sends = new Float64Array(count * SEND_ROW);
  let j = 0;
  const addSend = ([a, e]: Range, initial: boolean) => {
    sends.set([a * bytesPerElement, (e - a) * bytesPerElement, initial ? 1 : 0], j++ * SEND_ROW);
  };
  // Sends: the block this rank starts with, then each reduce-scatter chunk
  // once reduced, then each all-gather chunk but the last step's, forwarded.
  for (const c of chunks(mod(rank - 1))) addSend(c, true);
  for (let s = 0; s < steps; s++) for (const c of chunks(mod(rank - s - 2))) addSend(c, false);
  for (let t = 0; t < steps - 1; t++) for (const c of chunks(mod(rank - t - 1))) addSend(c, false);

  // Receive i makes send perBlock + i ready: the chunk goes on once reduced
  // (or, in the all-gather, once here), in the same order.
  let i = 0;
  const addRecv = (
    [a, e]: Range,
    reduce: boolean,
    code: number,
    divisor: number,
    forward: boolean,
  ) => {
    const row = [reduce ? 1 : 0, a * bytesPerElement, (e - a) * bytesPerElement, code, divisor];
    recvs.set([...row, forward ? perBlock + i : -1], i++ * RECV_ROW);
  };
  for (let s = 0; s < steps; s++) {
    const last = s === steps - 1;
    const code = op === 'avg' && !last ? OP_CODE.sum : OP_CODE[op];
    const divisor = op === 'avg' && last ? size : 0;
    for (const c of chunks(mod(rank - s - 2))) addRecv(c, true, code, divisor, true);
  }
  // All-gather chunks land in place, all posted at the start: one can only
  // arrive after this rank sent that block's last reduce-scatter chunk.
  for (let t = 0; t < steps; t++)
    for (const c of chunks(mod(rank - t - 1))) addRecv(c, false, 0, 0, t < steps - 1);
  return { recvs, sends };
}
