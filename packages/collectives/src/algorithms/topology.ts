import { PlexusCollectivesError } from '../errors.js';

const MODULE = 'algorithms/topology';

/**
 * Which host each rank runs on. Hierarchical algorithms (HO-Ring,
 * hierarchical all-to-all) use it to keep most traffic inside a host; the
 * in-memory transport uses it to tell intra-host from inter-host links.
 */
export interface Topology {
  /** `hostOf[rank]` is the host index of `rank` (hosts numbered from 0). */
  readonly hostOf: readonly number[];
}

/** `worldSize` ranks on hosts of `ranksPerHost` consecutive ranks each. */
export function uniformTopology(worldSize: number, ranksPerHost: number): Topology {
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected worldSize to be a positive integer, got ${String(worldSize)}`,
    );
  }
  if (!Number.isInteger(ranksPerHost) || ranksPerHost < 1) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ranksPerHost to be a positive integer, got ${String(ranksPerHost)}`,
    );
  }
  return { hostOf: Array.from({ length: worldSize }, (_, r) => Math.floor(r / ranksPerHost)) };
}

/** The ranks of each host, in rank order; hosts in index order. */
export function hostsOf(topology: Topology, worldSize: number): number[][] {
  if (topology.hostOf.length !== worldSize) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `topology describes ${topology.hostOf.length} ranks but the group has ${worldSize}`,
    );
  }
  const hosts = new Map<number, number[]>();
  topology.hostOf.forEach((h, r) => {
    if (!Number.isInteger(h) || h < 0) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected hostOf[${r}] to be a non-negative integer, got ${String(h)}`,
      );
    }
    const list = hosts.get(h) ?? [];
    list.push(r);
    hosts.set(h, list);
  });
  return [...hosts.keys()].sort((a, b) => a - b).map((h) => hosts.get(h)!);
}

/** True when every host holds the same number of ranks. */
export function isUniform(hosts: readonly (readonly number[])[]): boolean {
  return hosts.every((h) => h.length === hosts[0]!.length);
}
