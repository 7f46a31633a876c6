import { PlexusCollectivesError } from '../errors.js';
import { checkElementArray, type ElementArray } from '../reduction/dtype.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';
import { type AllToAllVResult, allToAllV as flatAllToAllV } from './all-to-all.js';
import {
  type AllReduceAlgorithm,
  type AllToAllAlgorithm,
  type CollectiveAlgorithm,
  checkAlgorithm,
  chooseAllReduceAlgorithm,
  chooseAllToAllAlgorithm,
} from './choose.js';
import { checkReduceOp } from './context.js';
import { halvingDoublingAllReduce } from './halving-doubling.js';
import { hierarchicalAllToAllV } from './hierarchical-all-to-all.js';
import { type HoRingOptions, hoRingAllReduce } from './ho-ring.js';
import { ringAllReduce } from './ring.js';
import type { Topology } from './topology.js';
import { treeAllReduce } from './tree.js';

const MODULE = 'algorithms/collectives';

/** Options of the dispatching collectives. */
export interface CollectiveOptions extends HoRingOptions {
  /** `auto` (default) chooses by message size and topology; anything else forces. */
  algorithm?: CollectiveAlgorithm;
  /** Ranks per host, for HO-Ring, hierarchical all-to-all and the automatic choice. */
  topology?: Topology;
}

const ALL_REDUCE: readonly AllReduceAlgorithm[] = ['ring', 'halving-doubling', 'tree', 'ho-ring'];
const ALL_TO_ALL: readonly AllToAllAlgorithm[] = ['flat', 'hierarchical'];

function needTopology(topology: Topology | undefined, algorithm: string): Topology {
  if (!topology) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `algorithm '${algorithm}' needs options.topology (which host each rank is on)`,
    );
  }
  return topology;
}

/** The all-reduce algorithm a call with these options runs. */
export function resolveAllReduceAlgorithm(
  p2p: PointToPointV1,
  buf: ElementArray,
  options: CollectiveOptions = {},
): AllReduceAlgorithm {
  const forced = checkAlgorithm(MODULE, options.algorithm, ALL_REDUCE);
  if (forced !== 'auto') return forced;
  return chooseAllReduceAlgorithm({
    bytes: buf.byteLength,
    worldSize: p2p.worldSize,
    topology: options.topology,
  });
}

/**
 * All-reduce in place with the algorithm chosen by size and topology (see
 * `chooseAllReduceAlgorithm`) or forced by `options.algorithm`. Every
 * algorithm leaves all ranks with bit-identical values; different
 * algorithms may round floats differently.
 */
export async function allReduce<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  op: ReduceOp,
  options: CollectiveOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkReduceOp(MODULE, op);
  const algorithm = resolveAllReduceAlgorithm(p2p, buf, options);
  switch (algorithm) {
    case 'ring':
      return ringAllReduce(p2p, buf, op, options);
    case 'halving-doubling':
      return halvingDoublingAllReduce(p2p, buf, op, options);
    case 'tree':
      return treeAllReduce(p2p, buf, op, options);
    case 'ho-ring':
      return hoRingAllReduce(p2p, buf, op, needTopology(options.topology, algorithm), options);
  }
}

/** The all-to-all algorithm a call with these options runs. */
export function resolveAllToAllAlgorithm(
  p2p: PointToPointV1,
  buf: ElementArray,
  options: CollectiveOptions = {},
): AllToAllAlgorithm {
  const forced = checkAlgorithm(MODULE, options.algorithm, ALL_TO_ALL);
  if (forced !== 'auto') return forced;
  return chooseAllToAllAlgorithm({
    bytes: buf.byteLength,
    worldSize: p2p.worldSize,
    topology: options.topology,
  });
}

/** Variable-split all-to-all, flat or hierarchical (see `allToAllV`, `hierarchicalAllToAllV`). */
export async function allToAllV<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  sendCounts: readonly number[],
  options: CollectiveOptions = {},
): Promise<AllToAllVResult<T>> {
  checkElementArray(MODULE, 'buf', buf);
  const algorithm = resolveAllToAllAlgorithm(p2p, buf, options);
  if (algorithm === 'hierarchical') {
    return hierarchicalAllToAllV(
      p2p,
      buf,
      sendCounts,
      needTopology(options.topology, algorithm),
      options,
    );
  }
  return flatAllToAllV(p2p, buf, sendCounts, options);
}

/** Equal-split all-to-all, flat or hierarchical; `buf.length` divisible by the world size. */
export async function allToAll<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  options: CollectiveOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  if (buf.length % p2p.worldSize !== 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `equal-split all-to-all needs a length divisible by worldSize ${p2p.worldSize}, got ${buf.length} (use allToAllV for variable splits)`,
    );
  }
  const counts = new Array<number>(p2p.worldSize).fill(buf.length / p2p.worldSize);
  return (await allToAllV(p2p, buf, counts, options)).data;
}
