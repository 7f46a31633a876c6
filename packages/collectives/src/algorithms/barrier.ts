import type { PointToPointV1 } from '../transport/point-to-point.js';
import { type AlgorithmOptions, Link } from './context.js';

/**
 * Dissemination barrier (Hensgen, Finkel and Manber, "Two algorithms for
 * barrier synchronization", 1988): in round `k` each rank signals
 * `rank + 2^k` and waits for `rank - 2^k`, so `ceil(log2 p)` rounds of
 * empty messages; no rank leaves before every rank has entered.
 */
export async function barrier(p2p: PointToPointV1, options: AlgorithmOptions = {}): Promise<void> {
  const link = new Link(p2p, options);
  const n = link.size;
  const r = link.rank;
  const empty = new Uint8Array(0);
  for (let k = 1; k < n; k <<= 1) {
    await link.exchange((r + k) % n, empty, (r - k + n) % n, empty);
  }
}
