import { describe, expect, it } from 'vitest';
import { allReduce } from '../../src/algorithms/collectives.js';
import {
  allIdentical,
  DTYPES,
  expectMatches,
  makeData,
  OPS,
  onNetwork,
  reference,
} from './helpers.js';

describe('allReduce on ~1M elements, every op x dtype', () => {
  it('world size 3, auto algorithm (ring above 1 MiB, halving-doubling below)', async () => {
    const p = 3;
    const failures: string[] = [];
    for (const dtype of DTYPES) {
      // BigInt references are slow: BigInt64 runs on 64K elements (its 1M case is in all-reduce-large).
      const length = dtype === 'i64' ? (1 << 16) + 1 : (1 << 20) + 1;
      for (const op of OPS) {
        const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r, 5));
        const expected = reference(dtype, op, inputs);
        const { results } = await onNetwork(p, (p2p, r) => allReduce(p2p, inputs[r]!, op));
        const bad = expectMatches(dtype, op, results[0]!, expected, p);
        if (bad) failures.push(`${dtype} ${op}: ${bad}`);
        if (!allIdentical(results)) failures.push(`${dtype} ${op}: ranks differ`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
