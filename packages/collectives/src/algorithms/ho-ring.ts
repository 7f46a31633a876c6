import { segmentBounds } from '../reduce.js';
import { checkElementArray, type ElementArray, slice } from '../reduction/dtype.js';
import { finishAverage } from '../reduction/js-reduce.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AlgorithmOptions, checkReduceOp, Link } from './context.js';
import { ringAllGatherInPlace, ringAllReduce, ringReduceScatterInPlace } from './ring.js';
import { subGroup } from './sub-group.js';
import { hostsOf, isUniform, type Topology } from './topology.js';

/** Options of `hoRingAllReduce`. */
export interface HoRingOptions extends AlgorithmOptions {
  /**
   * Pieces the buffer is cut into for pipelining (default: one per 8 MiB,
   * between 1 and 4). More pieces overlap more but add message rounds; under
   * the link model of bench/topology.ts one piece is fastest up to a few
   * MiB and two at 16 MiB.
   */
  pipelineChunks?: number;
}

const MODULE = 'algorithms/ho-ring';
/** Default bytes per HO-Ring pipeline chunk. */
const PIPELINE_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Hierarchical Overlapping Ring all-reduce, after "Rethinking Memory and
 * Communication Cost for Efficient Large Language Model Training" (Wu et
 * al., PaRO / HO-Ring, 2023). With `H` hosts of `L` ranks each:
 *
 * 1. intra-host ring reduce-scatter: local rank `l` holds segment `l` of
 *    its host's partial sum;
 * 2. `L` inter-host rings run at once, ring `l` joining local rank `l` of
 *    every host and all-reducing segment `l` (`1/L` of the data), so every
 *    host's links carry traffic concurrently instead of the one or two
 *    boundary links a flat ring crosses;
 * 3. intra-host ring all-gather.
 *
 * The buffer is cut into pipeline chunks, and the inter-host rings of chunk
 * `k` run concurrently with the intra-host phases of chunks `k+1` and
 * `k-1`: that overlap of intra-host and inter-host communication is the
 * "overlapping" of HO-Ring. Intra- and inter-host phases use disjoint rank
 * pairs, so the per-pair message order stays deterministic.
 *
 * Bytes across hosts: `2 (H-1) N` in total versus `2 H (p-1)/p N` for a flat
 * ring over contiguous hosts (e.g. 2 N vs 3.5 N for 2 hosts of 4 ranks).
 * Falls back to the flat ring when there is one host, one rank per host, or
 * hosts of unequal size. Each element is reduced on one rank, so all ranks
 * end bit-identical.
 */
export async function hoRingAllReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  topology: Topology,
  options: HoRingOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const hosts = hostsOf(topology, p2p.worldSize);
  const L = hosts[0]!.length;
  if (hosts.length < 2 || L < 2 || !isUniform(hosts)) return ringAllReduce(p2p, buf, op, options);
  const myHost = hosts.findIndex((h) => h.includes(p2p.rank));
  const local = hosts[myHost]!.indexOf(p2p.rank);
  const intra = new Link(subGroup(p2p, hosts[myHost]!), options);
  const inter = new Link(
    subGroup(
      p2p,
      hosts.map((h) => h[local]!),
    ),
    options,
  );
  const K = Math.max(
    1,
    Math.min(
      options.pipelineChunks ?? Math.min(4, Math.floor(buf.byteLength / PIPELINE_CHUNK_BYTES)),
      buf.length,
    ),
  );
  const chunk = (k: number) => {
    const [s, e] = segmentBounds(buf.length, K, k);
    return slice(buf, s, e);
  };
  const segment = (k: number) => {
    const c = chunk(k);
    const [s, e] = segmentBounds(c.length, L, local);
    return slice(c, s, e);
  };
  const interAllReduce = async (k: number) => {
    const seg = segment(k);
    await ringReduceScatterInPlace(inter, seg, op);
    await ringAllGatherInPlace(inter, seg);
    if (op === 'avg') finishAverage(seg, p2p.worldSize);
  };
  for (let t = 0; t < K + 2; t++) {
    const intraWork = async () => {
      if (t < K) await ringReduceScatterInPlace(intra, chunk(t), op);
      if (t >= 2) await ringAllGatherInPlace(intra, chunk(t - 2));
    };
    await Promise.all([intraWork(), t >= 1 && t <= K ? interAllReduce(t - 1) : undefined]);
  }
  return buf;
}
