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
