import { describe, expect, it } from 'vitest';
import {
  chooseAllReduceAlgorithm,
  chooseAllToAllAlgorithm,
  SMALL_ALL_REDUCE_BYTES,
  TREE_ALL_REDUCE_BYTES,
} from '../../src/algorithms/choose.js';
import { allReduce, resolveAllReduceAlgorithm } from '../../src/algorithms/collectives.js';
import { hoRingAllReduce } from '../../src/algorithms/ho-ring.js';
import { ringAllReduce } from '../../src/algorithms/ring.js';
import { subGroup } from '../../src/algorithms/sub-group.js';
import { uniformTopology } from '../../src/algorithms/topology.js';
import { PlexusCollectivesError } from '../../src/errors.js';
import { allIdentical, makeData, onNetwork } from './helpers.js';

describe('automatic choice', () => {
  const two = uniformTopology(8, 4);
  it('all-reduce: halving-doubling / ring on one host; tree / HO-Ring / ring across hosts', () => {
    expect(chooseAllReduceAlgorithm({ bytes: 1024, worldSize: 8 })).toBe('halving-doubling');
    expect(chooseAllReduceAlgorithm({ bytes: SMALL_ALL_REDUCE_BYTES - 1, worldSize: 8 })).toBe(
      'halving-doubling',
    );
    expect(chooseAllReduceAlgorithm({ bytes: SMALL_ALL_REDUCE_BYTES, worldSize: 8 })).toBe('ring');
    expect(chooseAllReduceAlgorithm({ bytes: 1024, worldSize: 8, topology: two })).toBe('tree');
    expect(
      chooseAllReduceAlgorithm({ bytes: TREE_ALL_REDUCE_BYTES, worldSize: 8, topology: two }),
    ).toBe('ho-ring');
    expect(
      chooseAllReduceAlgorithm({ bytes: 1 << 20, worldSize: 3, topology: { hostOf: [0, 0, 1] } }),
    ).toBe('ring');
    expect(
      chooseAllReduceAlgorithm({ bytes: 1 << 20, worldSize: 8, topology: uniformTopology(8, 1) }),
    ).toBe('ring');
    expect(chooseAllReduceAlgorithm({ bytes: 1 << 20, worldSize: 1 })).toBe('ring');
  });

  it('all-to-all: hierarchical for small chunks across hosts, flat otherwise', () => {
    expect(chooseAllToAllAlgorithm({ bytes: 8 * 1024, worldSize: 8, topology: two })).toBe(
      'hierarchical',
    );
    expect(chooseAllToAllAlgorithm({ bytes: 8 << 20, worldSize: 8, topology: two })).toBe('flat');
    expect(chooseAllToAllAlgorithm({ bytes: 1024, worldSize: 8 })).toBe('flat');
  });

  it('forced algorithms are validated with clear messages', async () => {
    const { results } = await onNetwork(2, (p2p) =>
      allReduce(p2p, new Float32Array(4), 'sum', { algorithm: 'hierarchical' }).catch(
        (e: Error) => e.message,
      ),
    );
    expect(String(results[0])).toMatch(
      /^@plexus\/collectives\/algorithms\/collectives: expected algorithm to be 'auto' or one of 'ring', 'halving-doubling', 'tree', 'ho-ring', got hierarchical/,
    );
    const noTopo = await onNetwork(2, (p2p) =>
      allReduce(p2p, new Float32Array(4), 'sum', { algorithm: 'ho-ring' }).catch(
        (e: Error) => e.message,
      ),
    );
    expect(String(noTopo.results[0])).toMatch(/needs options.topology/);
    const bad = await onNetwork(1, (p2p) =>
      allReduce(p2p, [1, 2] as never, 'sum').catch((e: Error) => e.message),
    );
    expect(String(bad.results[0])).toMatch(
      /expected buf to be a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got Array/,
    );
    const op = await onNetwork(1, (p2p) =>
      allReduce(p2p, new Float32Array(1), 'mean' as 'sum').catch((e: Error) => e.message),
    );
    expect(String(op.results[0])).toMatch(
      /expected op to be one of sum, prod, min, max, avg, got mean/,
    );
    const { results: chosen } = await onNetwork(8, async (p2p) =>
      resolveAllReduceAlgorithm(p2p, new Float32Array(1 << 16), { topology: two }),
    );
    expect(chosen[0]).toBe('ho-ring');
  });
});

describe('HO-Ring equals the flat ring', () => {
  it('bit for bit on integers, for interleaved hosts and several pipeline depths', async () => {
    const layouts = [uniformTopology(8, 4), { hostOf: [0, 1, 0, 1, 0, 1] }, uniformTopology(9, 3)];
    for (const topology of layouts) {
      const p = topology.hostOf.length;
      for (const pipelineChunks of [1, 3, 8]) {
        const inputs = Array.from({ length: p }, (_, r) => makeData('i32', 'sum', 10_007, r));
        const ring = await onNetwork(p, (p2p, r) => ringAllReduce(p2p, inputs[r]!.slice(), 'sum'));
        const ho = await onNetwork(
          p,
          (p2p, r) => hoRingAllReduce(p2p, inputs[r]!.slice(), 'sum', topology, { pipelineChunks }),
          topology,
        );
        expect(allIdentical([...ring.results, ...ho.results])).toBe(true);
      }
    }
  });

  it('sends 2(H-1)N bytes across hosts versus 2H(p-1)/p N for the flat ring', async () => {
    const topology = uniformTopology(8, 4);
    const n = 4096;
    const ring = await onNetwork(
      8,
      (p2p) => ringAllReduce(p2p, new Float32Array(n), 'sum'),
      topology,
    );
    const ho = await onNetwork(
      8,
      (p2p) => hoRingAllReduce(p2p, new Float32Array(n), 'sum', topology),
      topology,
    );
    expect(ring.net.stats.interHostBytes).toBe(2 * 2 * (7 / 8) * n * 4);
    expect(ho.net.stats.interHostBytes).toBe(2 * 1 * n * 4);
  });
});

describe('sub-groups and timeouts', () => {
  it('runs an algorithm on a subset of ranks', async () => {
    const { results } = await onNetwork(5, async (p2p, r) => {
      if (r % 2 === 1) return undefined;
      const sub = subGroup(p2p, [0, 2, 4]);
      return ringAllReduce(sub, new Int32Array([r, 1]), 'sum');
    });
    for (const r of [0, 2, 4]) expect(Array.from(results[r]!)).toEqual([6, 3]);
    const net = await onNetwork(2, async (p2p) => {
      try {
        subGroup(p2p, [5]);
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(String(net.results[0])).toMatch(/is not among the members/);
  });

  it('a missing peer makes the collective reject with a timeout, never hang', async () => {
    const { results } = await onNetwork(3, async (p2p, r) => {
      if (r === 2) return 'absent';
      return ringAllReduce(p2p, new Float32Array(9), 'sum', { timeoutMs: 30 }).catch(
        (e: unknown) => (PlexusCollectivesError.isInstance(e) ? e.code : 'other'),
      );
    });
    expect(results.slice(0, 2)).toEqual(['timeout', 'timeout']);
  });
});
