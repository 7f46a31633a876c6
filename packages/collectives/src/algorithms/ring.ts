import { PlexusCollectivesError } from '../errors.js';
import { segmentBounds } from '../reduce.js';
import { checkElementArray, type ElementArray, like, slice } from '../reduction/dtype.js';
import { finishAverage } from '../reduction/js-reduce.js';
import type { PointToPointV1, RingAllReduceOffloadV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AlgorithmOptions, checkReduceOp, Link } from './context.js';
import { chunksOf } from './ring-schedule.js';
import { releaseScratch, takeScratch } from './scratch-pool.js';

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
 * Bytes per message of the pipelined ring all-reduce: each block is cut into
 * chunks of about this size so that reducing one chunk overlaps receiving the
 * next, and a reduced chunk moves on while the rest of its block is in flight.
 * 4 MiB: over TCP loopback, 4 ranks on 2 cores, a 64 MiB all-reduce took
 * about 10% less time and CPU than with 1 MiB chunks (fewer messages, each
 * with its wake-up, promise and checksum call); 8 and 16 MiB were no better.
 */
export const RING_CHUNK_BYTES = 4 << 20;

/**
 * Ring all-reduce in place: reduce-scatter then all-gather, `2(p-1)/p` of
 * the buffer sent per rank (bandwidth-optimal). Every rank ends with
 * bit-identical values because each block is reduced on one rank only.
 *
 * Pipelined: blocks travel in chunks of `RING_CHUNK_BYTES`, and receives
 * are posted ahead of the data (two reduce-scatter steps into pooled
 * scratch of two blocks, then every all-gather chunk directly into `buf`),
 * so payloads land where they belong instead of being staged by the
 * transport. An all-gather chunk can arrive only after this rank has sent
 * that block's last reduce-scatter chunk (the block's final value depends
 * on it), so
 * receiving into `buf` early never overwrites data still to be sent.
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
  const chunkBytes = options.chunkBytes ?? RING_CHUNK_BYTES;
  if (!Number.isFinite(chunkBytes) || chunkBytes <= 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected chunkBytes to be a positive number of bytes, got ${String(chunkBytes)}`,
    );
  }
  // A transport that can run the whole ring (native TCP threads) does, with
  // the same messages; a caller's own reducer keeps it here.
  const offload = (p2p as Partial<RingAllReduceOffloadV1>).offloadRingAllReduce;
  if (offload !== undefined && options.reducer === undefined) {
    const running = offload.call(p2p, buf, op, { chunkBytes, timeoutMs: options.timeoutMs });
    if (running !== undefined) {
      await running;
      return buf;
    }
  }
  const chunkElems = Math.max(1, Math.floor(chunkBytes / buf.BYTES_PER_ELEMENT));
  await pipelinedRingAllReduce(link, buf, op, chunkElems);
  return buf;
}

async function pipelinedRingAllReduce(
  link: Link,
  buf: ElementArray,
  op: ReduceOp,
  chunkElems: number,
): Promise<void> {
  const n = link.size;
  const r = link.rank;
  const right = (r + 1) % n;
  const left = (r - 1 + n) % n;
  const bounds = (block: number) => segmentBounds(buf.length, n, block);
  const chunks = (block: number) => chunksOf(bounds(block), chunkElems);
  // Reduce-scatter step s receives block r-s-2; all-gather step t receives block r-t-1.
  const rsBlocks = Array.from({ length: n - 1 }, (_, s) => mod(r - s - 2, n));
  const rsChunks = rsBlocks.map(chunks);
  const agChunks = Array.from({ length: n - 1 }, (_, t) => chunks(mod(r - t - 1, n)));
  // Two steps of reduce-scatter receives in flight (slot s % 2), so scratch
  // stays at two blocks whatever the world size.
  const blockLength = bounds(0)[1] - bounds(0)[0];
  const scratch = takeScratch(buf, Math.min(2, n - 1) * blockLength);

  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  const pending: Promise<void>[] = [];
  const guard = (p: Promise<void>) => {
    p.catch(fail);
    pending.push(p);
    return p;
  };
  const send = (a: number, e: number) => guard(link.send(right, slice(buf, a, e)));
  type RsRecv = { a: number; e: number; tmp: ElementArray; done: Promise<void> };
  const rsRecvs: RsRecv[][] = rsBlocks.map(() => []);
  const postRs = (s: number, c: number) => {
    const [a, e] = rsChunks[s]![c]!;
    const at = (s % 2) * blockLength + (a - bounds(rsBlocks[s]!)[0]);
    const tmp = slice(scratch, at, at + e - a);
    rsRecvs[s]![c] = { a, e, tmp, done: guard(link.recv(left, tmp)) };
  };
  let agRecvs: { a: number; e: number; done: Promise<void> }[][] = [];
  // All-gather chunks land straight in `buf`; posted right after the last
  // reduce-scatter receive so message order is kept.
  const postAg = () => {
    agRecvs = agChunks.map((step) =>
      step.map(([a, e]) => ({ a, e, done: guard(link.recv(left, slice(buf, a, e))) })),
    );
  };

  try {
    // Receives are posted in message order before the sends they answer.
    for (let s = 0; s < Math.min(2, n - 1); s++)
      for (let c = 0; c < rsChunks[s]!.length; c++) postRs(s, c);
    if (n - 1 <= 2) postAg();
    for (const [a, e] of chunks(mod(r - 1, n))) send(a, e);
    for (let s = 0; s < n - 1; s++) {
      const count = rsChunks[s]!.length;
      for (let c = 0; c < count; c++) {
        const { a, e, tmp, done } = rsRecvs[s]![c]!;
        await Promise.race([done, failed]);
        const acc = slice(buf, a, e);
        link.reduce(acc, tmp, op);
        // Slot free again: step s + 2 reuses it.
        if (s + 2 <= n - 2 && c < rsChunks[s + 2]!.length) postRs(s + 2, c);
        // The last step completes block r: finish avg before it is shared.
        if (s === n - 2 && op === 'avg') finishAverage(acc, n);
        send(a, e);
      }
      if (s + 2 <= n - 2) {
        // Blocks differ by at most one element, so step s + 2 may have a chunk more (or step s none).
        const later = rsChunks[s + 2]!.length;
        for (let k = count; k < later; k++) postRs(s + 2, k);
        if (s + 2 === n - 2) postAg();
      }
    }
    for (let t = 0; t < n - 1; t++) {
      for (const { a, e, done } of agRecvs[t]!) {
        await Promise.race([done, failed]);
        if (t < n - 2) send(a, e);
      }
    }
    await Promise.race([Promise.all(pending), failed]);
  } finally {
    // On failure, chunks may still be landing in scratch: only reuse it once everything settled.
    void Promise.allSettled(pending).then(() => releaseScratch(scratch));
  }
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
