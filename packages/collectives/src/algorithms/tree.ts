import { checkElementArray, type ElementArray, like } from '../reduction/dtype.js';
import { finishAverage } from '../reduction/js-reduce.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AlgorithmOptions, checkRank, checkReduceOp, Link } from './context.js';

const MODULE = 'algorithms/tree';

/** Binomial-tree broadcast on a `Link` (ranks relative to `root`). */
export async function binomialBroadcastOn(link: Link, buf: ElementArray, root: number) {
  const n = link.size;
  const vr = (link.rank - root + n) % n;
  let mask = 1;
  while (mask < n) {
    if (vr & mask) {
      await link.recv((vr - mask + root) % n, buf);
      break;
    }
    mask <<= 1;
  }
  mask >>= 1;
  const sends: Promise<void>[] = [];
  while (mask > 0) {
    if (vr + mask < n) sends.push(link.send((vr + mask + root) % n, buf));
    mask >>= 1;
  }
  await Promise.all(sends);
}

/** Binomial-tree reduce on a `Link`: `acc` on `root` ends with the reduction (`avg` still a sum). */
export async function binomialReduceOn(link: Link, acc: ElementArray, op: ReduceOp, root: number) {
  const n = link.size;
  const vr = (link.rank - root + n) % n;
  const tmp = like(acc, acc.length);
  let mask = 1;
  while (mask < n) {
    if ((vr & mask) === 0) {
      const child = vr | mask;
      if (child < n) {
        await link.recv((child + root) % n, tmp);
        link.reduce(acc, tmp, op);
      }
    } else {
      await link.send((vr - mask + root) % n, acc);
      break;
    }
    mask <<= 1;
  }
}

/**
 * Binomial-tree broadcast in place: `ceil(log2 p)` rounds, each rank
 * receiving once from its parent and forwarding to its children (MPICH's
 * `MPIR_Bcast_binomial`; Thakur, Rabenseifner and Gropp, "Optimization of
 * Collective Communication Operations in MPICH", 2005).
 */
export async function treeBroadcast<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  root: number,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkRank(MODULE, 'root', root, p2p.worldSize);
  await binomialBroadcastOn(new Link(p2p, options), buf, root);
  return buf;
}

/**
 * Binomial-tree reduce: on `root`, `buf` is overwritten with the reduction
 * over all ranks; on other ranks `buf` is left unchanged. Returns `buf`.
 */
export async function treeReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  root: number,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  checkRank(MODULE, 'root', root, p2p.worldSize);
  const link = new Link(p2p, options);
  const acc = link.rank === root ? buf : (buf.slice() as T);
  await binomialReduceOn(link, acc, op, root);
  if (op === 'avg' && link.rank === root) finishAverage(buf, link.size);
  return buf;
}

/**
 * All-reduce as a binomial reduce to rank 0 followed by a binomial
 * broadcast: `2 log2 p` full-size messages on the critical path, so only
 * worth it for small buffers; `auto` picks it across hosts below
 * `TREE_ALL_REDUCE_BYTES`.
 */
export async function treeAllReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const link = new Link(p2p, options);
  if (link.size === 1) return buf;
  await binomialReduceOn(link, buf, op, 0);
  if (op === 'avg' && link.rank === 0) finishAverage(buf, link.size);
  await binomialBroadcastOn(link, buf, 0);
  return buf;
}
