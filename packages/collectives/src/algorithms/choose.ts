import { PlexusCollectivesError } from '../errors.js';
import { hostsOf, isUniform, type Topology } from './topology.js';

/** Algorithm names accepted by the `algorithm` option of the dispatching collectives. */
export type CollectiveAlgorithm =
  | 'auto'
  | 'ring'
  | 'halving-doubling'
  | 'tree'
  | 'ho-ring'
  | 'hierarchical'
  | 'flat';

/** All-reduce algorithms `chooseAllReduceAlgorithm` picks from. */
export type AllReduceAlgorithm = 'ring' | 'halving-doubling' | 'tree' | 'ho-ring';

/** All-to-all algorithms `chooseAllToAllAlgorithm` picks from. */
export type AllToAllAlgorithm = 'flat' | 'hierarchical';

/**
 * Below this many bytes per rank, all-reduce uses recursive halving-doubling:
 * `2 log2 p` message rounds beat the ring's `2 (p-1)` while latency, not
 * bandwidth, dominates. 64 KiB is where the ring overtakes in MPICH's
 * default tuning for `MPI_Allreduce` on commodity networks (Thakur,
 * Rabenseifner and Gropp, 2005, use 2 KiB for short-message recursive
 * doubling and Rabenseifner above it; our transports pay a per-message cost
 * of tens of microseconds, which moves the crossover up).
 */
export const SMALL_ALL_REDUCE_BYTES = 64 * 1024;

/**
 * Below this many bytes per destination, all-to-all over more than one host
 * goes hierarchical: per-message cost dominates small chunks, and HetuMoE's
 * aggregation turns `L^2` inter-host messages per host pair into one.
 */
export const SMALL_ALL_TO_ALL_CHUNK_BYTES = 64 * 1024;

/** Inputs of the automatic choice. */
export interface ChoiceInput {
  /** Bytes of the buffer on each rank. */
  bytes: number;
  worldSize: number;
  /** Ranks per host; without it every rank is assumed on one host. */
  topology?: Topology;
}

function multiHost(input: ChoiceInput): { hosts: number; uniformLocal: number } {
  if (!input.topology) return { hosts: 1, uniformLocal: input.worldSize };
  const hosts = hostsOf(input.topology, input.worldSize);
  return { hosts: hosts.length, uniformLocal: isUniform(hosts) ? hosts[0]!.length : 0 };
}

/**
 * The all-reduce algorithm `auto` runs: halving-doubling under
 * `SMALL_ALL_REDUCE_BYTES`; above it HO-Ring when the topology has at least
 * two hosts with the same number (>= 2) of ranks each, else the ring. The
 * tree is never chosen automatically (it sends whole buffers `2 log2 p` times).
 */
export function chooseAllReduceAlgorithm(input: ChoiceInput): AllReduceAlgorithm {
  if (input.worldSize <= 1) return 'ring';
  if (input.bytes < SMALL_ALL_REDUCE_BYTES) return 'halving-doubling';
  const { hosts, uniformLocal } = multiHost(input);
  if (hosts >= 2 && uniformLocal >= 2) return 'ho-ring';
  return 'ring';
}

/**
 * The all-to-all algorithm `auto` runs: hierarchical when ranks span at least
 * two hosts, some host has two or more ranks, and a per-destination chunk
 * (`bytes / worldSize`) is under `SMALL_ALL_TO_ALL_CHUNK_BYTES`; flat otherwise.
 */
export function chooseAllToAllAlgorithm(input: ChoiceInput): AllToAllAlgorithm {
  if (!input.topology || input.worldSize <= 1) return 'flat';
  const hosts = hostsOf(input.topology, input.worldSize);
  const anyShared = hosts.some((h) => h.length >= 2);
  if (
    hosts.length >= 2 &&
    anyShared &&
    input.bytes / input.worldSize < SMALL_ALL_TO_ALL_CHUNK_BYTES
  ) {
    return 'hierarchical';
  }
  return 'flat';
}

/** Throws unless `algorithm` is one of `allowed`. */
export function checkAlgorithm<A extends string>(
  module: string,
  algorithm: unknown,
  allowed: readonly A[],
): A | 'auto' {
  if (algorithm === undefined || algorithm === 'auto') return 'auto';
  if (!allowed.includes(algorithm as A)) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected algorithm to be 'auto' or one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(algorithm)}`,
    );
  }
  return algorithm as A;
}
