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

describe('pipelined ring: blocks cut into many chunks', () => {
  it('equals the reference for chunks of 1-3 elements, every op x dtype, world size 1..8', async () => {
    const failures: string[] = [];
    for (let p = 1; p <= 8; p++) {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          for (const length of [0, 1, 7, 61]) {
            const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r));
            const expected = reference(dtype, op, inputs);
            const chunkBytes = (1 + (length % 3)) * inputs[0]!.BYTES_PER_ELEMENT;
            const { results } = await onNetwork(p, (p2p, r) =>
              allReduce(p2p, inputs[r]!.slice(), op, { algorithm: 'ring', chunkBytes }),
            );
            const tag = `p=${p} ${dtype} ${op} n=${length} chunk=${chunkBytes}`;
            const bad = expectMatches(dtype, op, results[0]!, expected, p);
            if (bad) failures.push(`${tag}: ${bad}`);
            if (!allIdentical(results)) failures.push(`${tag}: ranks differ`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects a chunk size that is not a positive number', async () => {
    const { results } = await onNetwork(2, (p2p) =>
      allReduce(p2p, new Float32Array(4), 'sum', { algorithm: 'ring', chunkBytes: 0 }).then(
        () => 'resolved',
        (e: Error) => e.message,
      ),
    );
    expect(results[0]).toMatch(/chunkBytes to be a positive number/);
  });
});

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
