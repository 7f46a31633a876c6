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
 * On one host, all-reduce below this many bytes per rank uses recursive
 * halving-doubling (`2 log2 p` rounds instead of the ring's `2 (p-1)`, same
 * bytes); at and above it the ring. Under bench/topology.ts's link model
 * halving-doubling won at every size up to 1 MiB on 8 ranks (1.15-2.3x);
 * the ring stays the large-message choice because it needs no folding step
 * on non-power-of-two worlds and streams evenly over shared links.
 */
export const SMALL_ALL_REDUCE_BYTES = 1024 * 1024;

/**
 * Across hosts, all-reduce below this many bytes per rank uses the binomial
 * tree (fewest inter-host rounds); at and above it HO-Ring (or the ring when
 * hosts are uneven or hold one rank). Halving-doubling is never chosen
 * across hosts: its widest exchange sends half the buffer from every rank
 * over the inter-host link at once. Measured crossover in
 * bench/results/topology.json (2 hosts x 4): the tree fastest at 1 KiB,
 * tied with HO-Ring at 16 KiB, HO-Ring ahead from there (1.3-1.7x the ring).
 */
export const TREE_ALL_REDUCE_BYTES = 16 * 1024;

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
 * The all-reduce algorithm `auto` runs. One host (or no topology):
 * halving-doubling under `SMALL_ALL_REDUCE_BYTES`, else the ring. Several
 * hosts: the tree under `TREE_ALL_REDUCE_BYTES`, else HO-Ring when every
 * host holds the same number (>= 2) of ranks, else the ring.
 */
export function chooseAllReduceAlgorithm(input: ChoiceInput): AllReduceAlgorithm {
  if (input.worldSize <= 1) return 'ring';
  const { hosts, uniformLocal } = multiHost(input);
  if (hosts <= 1) return input.bytes < SMALL_ALL_REDUCE_BYTES ? 'halving-doubling' : 'ring';
  if (input.bytes < TREE_ALL_REDUCE_BYTES) return 'tree';
  return uniformLocal >= 2 ? 'ho-ring' : 'ring';
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
