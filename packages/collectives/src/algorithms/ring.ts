import { segmentBounds } from '../reduce.js';
import { checkElementArray, type ElementArray, like, slice } from '../reduction/dtype.js';
import { finishAverage } from '../reduction/js-reduce.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AlgorithmOptions, checkReduceOp, Link } from './context.js';

const MODULE = 'algorithms/ring';

/** `[start, end)` of block `i` of a buffer split among the ranks of a ring. */
export type BlockBounds = (index: number) => readonly [number, number];

const mod = (a: number, n: number) => ((a % n) + n) % n;

/**
 * Ring reduce-scatter in place (Patarasuk and Yuan, "Bandwidth optimal
 * all-reduce algorithms for clusters of workstations", 2009): after
 * `size - 1` steps block `rank` of `buf` holds the reduction over all ranks
 * (`avg` still a sum). Each step sends one block right and reduces the block
 * received from the left.
 */
export async function ringReduceScatterInPlace(
  link: Link,
  buf: ElementArray,
  op: ReduceOp,
  bounds: BlockBounds = (i) => segmentBounds(buf.length, link.size, i),
): Promise<void> {
  const n = link.size;
  if (n === 1) return;
  const r = link.rank;
  const right = (r + 1) % n;
  const left = (r - 1 + n) % n;
  let maxBlock = 0;
  for (let i = 0; i < n; i++) {
    const [s, e] = bounds(i);
    maxBlock = Math.max(maxBlock, e - s);
  }
  const tmp = like(buf, maxBlock);
  for (let step = 0; step < n - 1; step++) {
    const [ss, se] = bounds(mod(r - step - 1, n));
    const [rs, re] = bounds(mod(r - step - 2, n));
    const incoming = slice(tmp, 0, re - rs);
    await link.exchange(right, slice(buf, ss, se), left, incoming);
    link.reduce(slice(buf, rs, re), incoming, op);
  }
}

/** Ring all-gather in place: block `rank` of `buf` reaches every rank after `size - 1` steps. */
export async function ringAllGatherInPlace(
  link: Link,
  buf: ElementArray,
  bounds: BlockBounds = (i) => segmentBounds(buf.length, link.size, i),
): Promise<void> {
  const n = link.size;
  const r = link.rank;
  const right = (r + 1) % n;
  const left = (r - 1 + n) % n;
  for (let step = 0; step < n - 1; step++) {
    const [ss, se] = bounds(mod(r - step, n));
    const [rs, re] = bounds(mod(r - step - 1, n));
    await link.exchange(right, slice(buf, ss, se), left, slice(buf, rs, re));
  }
}

/**
 * Ring all-reduce in place: reduce-scatter then all-gather, `2(p-1)/p` of
 * the buffer sent per rank (bandwidth-optimal). Every rank ends with
 * bit-identical values because each block is reduced on one rank only.
 */
export async function ringAllReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const link = new Link(p2p, options);
  if (link.size === 1) return buf;
  await ringReduceScatterInPlace(link, buf, op);
  if (op === 'avg') {
    const [s, e] = segmentBounds(buf.length, link.size, link.rank);
    finishAverage(slice(buf, s, e), link.size);
  }
  await ringAllGatherInPlace(link, buf);
  return buf;
}

/**
 * Ring reduce-scatter: returns this rank's block of the reduction as a new
 * array (blocks as `segmentBounds(buf.length, worldSize, rank)`); `buf` is
 * left unchanged.
 */
export async function ringReduceScatter<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const link = new Link(p2p, options);
  const work = buf.slice() as T;
  await ringReduceScatterInPlace(link, work, op);
  const [s, e] = segmentBounds(work.length, link.size, link.rank);
  const out = work.slice(s, e) as T;
  if (op === 'avg') finishAverage(out, link.size);
  return out;
}

/**
 * Ring all-gather: returns `worldSize * buf.length` elements, rank `r`'s
 * buffer at `r * buf.length`. Every rank must pass the same length.
 */
export async function ringAllGather<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  const link = new Link(p2p, options);
  const len = buf.length;
  const out = like(buf, len * link.size);
  out.set(buf as never, link.rank * len);
  await ringAllGatherInPlace(link, out, (i) => [i * len, (i + 1) * len]);
  return out;
}
