import {
  allToAllV,
  hierarchicalAllToAllV,
  type PointToPointV1,
  type Topology,
} from '@plexus/collectives';
import type { AllToAllV } from './exchange.js';

/** Options of {@link collectiveExchange}. */
export interface CollectiveExchangeOptions {
  /**
   * Use HetuMoE's hierarchical all-to-all over this host topology (gather
   * inside each host, one exchange between hosts, scatter) instead of the
   * flat one.
   */
  readonly hierarchical?: Topology;
  /** Per-call timeout in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * The token exchange of expert parallelism over a `@plexus/collectives`
 * transport (worker threads, processes or TCP): one variable-split
 * all-to-all per call, flat or hierarchical ("HetuMoE: An Efficient
 * Trillion-scale Mixture-of-Expert Distributed Training System", 2022).
 */
export function collectiveExchange(
  p2p: PointToPointV1,
  options: CollectiveExchangeOptions = {},
): AllToAllV {
  const algo = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  return async (perPeer) => {
    const counts = perPeer.map((b) => b.length);
    const buf = new Float32Array(counts.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const b of perPeer) {
      buf.set(b, at);
      at += b.length;
    }
    const { data, recvCounts } = options.hierarchical
      ? await hierarchicalAllToAllV(p2p, buf, counts, options.hierarchical, algo)
      : await allToAllV(p2p, buf, counts, algo);
    const out: Float32Array[] = [];
    let from = 0;
    for (const n of recvCounts) {
      out.push(data.slice(from, from + n));
      from += n;
    }
    return out;
  };
}
