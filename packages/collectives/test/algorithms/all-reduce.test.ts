import { describe, expect, it } from 'vitest';
import { allReduce } from '../../src/algorithms/collectives.js';
import { uniformTopology } from '../../src/algorithms/topology.js';
import {
  allIdentical,
  DTYPES,
  expectMatches,
  makeData,
  OPS,
  onNetwork,
  reference,
} from './helpers.js';

const ALGORITHMS = ['ring', 'halving-doubling', 'tree', 'ho-ring'] as const;
const SMALL = [0, 1, 7, 1001];

describe('allReduce: every algorithm x op x dtype x small size x world size 1..8', () => {
  for (const algorithm of ALGORITHMS) {
    it(algorithm, async () => {
      const failures: string[] = [];
      for (let p = 1; p <= 8; p++) {
        // HO-Ring needs hosts; 2 hosts where p is even, else one rank per host (falls back to ring).
        const topology = uniformTopology(p, p % 2 === 0 ? p / 2 : 1);
        for (const dtype of DTYPES) {
          for (const op of OPS) {
            for (const length of SMALL) {
              const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r));
              const expected = reference(dtype, op, inputs);
              const { results } = await onNetwork(p, (p2p, r) =>
                allReduce(p2p, inputs[r]!.slice(), op, { algorithm, topology }),
              );
              const tag = `${algorithm} p=${p} ${dtype} ${op} n=${length}`;
              const bad = expectMatches(dtype, op, results[0]!, expected, p);
              if (bad) failures.push(`${tag}: ${bad}`);
              if (!allIdentical(results)) failures.push(`${tag}: ranks differ`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

describe('allReduce on ~1M elements', () => {
  it('every dtype, sum, auto (ring / HO-Ring), world sizes 1, 2, 5, 8', async () => {
    const length = 1_000_003;
    for (const p of [1, 2, 5, 8]) {
      const topology = p % 2 === 0 ? uniformTopology(p, p / 2) : undefined;
      for (const dtype of DTYPES) {
        if (dtype === 'i64' && p !== 5) continue; // BigInt is slow; one world size suffices
        const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, 'sum', length, r));
        const expected = reference(dtype, 'sum', inputs);
        const { results } = await onNetwork(p, (p2p, r) =>
          allReduce(p2p, inputs[r]!, 'sum', { topology }),
        );
        expect(expectMatches(dtype, 'sum', results[0]!, expected, p), `p=${p} ${dtype}`).toBe(
          undefined,
        );
        expect(allIdentical(results)).toBe(true);
      }
    }
  }, 60_000);

  it('every op on f32 at world size 6 over 2 hosts, HO-Ring and halving-doubling', async () => {
    const length = 1 << 20;
    const p = 6;
    const topology = uniformTopology(p, 3);
    for (const algorithm of ['ho-ring', 'halving-doubling'] as const) {
      for (const op of algorithm === 'ho-ring' ? OPS : (['sum'] as const)) {
        const inputs = Array.from({ length: p }, (_, r) => makeData('f32', op, length, r));
        const expected = reference('f32', op, inputs);
        const { results } = await onNetwork(p, (p2p, r) =>
          allReduce(p2p, inputs[r]!, op, { algorithm, topology }),
        );
        expect(expectMatches('f32', op, results[0]!, expected, p), `${algorithm} ${op}`).toBe(
          undefined,
        );
        expect(allIdentical(results)).toBe(true);
      }
    }
  }, 60_000);
});
