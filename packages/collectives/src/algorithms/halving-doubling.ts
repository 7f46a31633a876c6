import { checkElementArray, type ElementArray, like, slice } from '../reduction/dtype.js';
import { finishAverage } from '../reduction/js-reduce.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AlgorithmOptions, checkReduceOp, Link } from './context.js';

const MODULE = 'algorithms/halving-doubling';

interface Step {
  partner: number;
  lo: number;
  hi: number;
  mid: number;
  keepLower: boolean;
}

/**
 * Recursive halving-doubling all-reduce in place (Rabenseifner's algorithm
 * as in Thakur, Rabenseifner and Gropp, "Optimization of Collective
 * Communication Operations in MPICH", 2005): reduce-scatter by recursive
 * halving, then all-gather by recursive doubling, `2 log2 p` rounds instead
 * of the ring's `2(p-1)`, which is why it wins on small messages.
 *
 * A world size that is not a power of two is folded first, as MPICH does:
 * with `rem = p - 2^floor(log2 p)`, each even rank below `2 rem` sends its
 * buffer to the odd rank above it and sits out; after the power-of-two core
 * finishes, the odd rank sends the result back. Each element is reduced on
 * exactly one rank, so every rank ends bit-identical.
 */
export async function halvingDoublingAllReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const link = new Link(p2p, options);
  const p = link.size;
  if (p === 1) return buf;
  const rank = link.rank;
  let pof2 = 1;
  while (pof2 * 2 <= p) pof2 *= 2;
  const rem = p - pof2;

  let newrank: number;
  if (rank < 2 * rem) {
    if (rank % 2 === 0) {
      await link.send(rank + 1, buf);
      newrank = -1;
    } else {
      const tmp = like(buf, buf.length);
      await link.recv(rank - 1, tmp);
      link.reduce(buf, tmp, op);
      newrank = rank >> 1;
    }
  } else {
    newrank = rank - rem;
  }

  if (newrank >= 0) {
    const toRank = (nr: number) => (nr < rem ? nr * 2 + 1 : nr + rem);
    const steps: Step[] = [];
    let lo = 0;
    let hi = buf.length;
    const tmp = like(buf, Math.ceil(buf.length / 2));
    for (let mask = pof2 >> 1; mask > 0; mask >>= 1) {
      const partnerNew = newrank ^ mask;
      const partner = toRank(partnerNew);
      const mid = lo + Math.floor((hi - lo) / 2);
      const keepLower = newrank < partnerNew;
      const [ks, ke, ss, se] = keepLower ? [lo, mid, mid, hi] : [mid, hi, lo, mid];
      const incoming = slice(tmp, 0, ke - ks);
      await link.exchange(partner, slice(buf, ss, se), partner, incoming);
      link.reduce(slice(buf, ks, ke), incoming, op);
      steps.push({ partner, lo, hi, mid, keepLower });
      lo = ks;
      hi = ke;
    }
    if (op === 'avg') finishAverage(slice(buf, lo, hi), p);
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      const [ks, ke, os, oe] = s.keepLower
        ? [s.lo, s.mid, s.mid, s.hi]
        : [s.mid, s.hi, s.lo, s.mid];
      await link.exchange(s.partner, slice(buf, ks, ke), s.partner, slice(buf, os, oe));
    }
  }

  if (rank < 2 * rem) {
    if (rank % 2 === 1) await link.send(rank - 1, buf);
    else await link.recv(rank + 1, buf);
  }
  return buf;
}
