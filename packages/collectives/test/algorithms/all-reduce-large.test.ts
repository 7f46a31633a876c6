import { describe, expect, it } from 'vitest';
import { allReduce } from '../../src/algorithms/collectives.js';
import { uniformTopology } from '../../src/algorithms/topology.js';
import { allIdentical, DTYPES, expectMatches, makeData, onNetwork, reference } from './helpers.js';

describe('allReduce on ~1M elements', () => {
  it('every dtype, sum, auto (ring / HO-Ring), world sizes 3 and 8', async () => {
    const length = 1_000_003;
    for (const p of [3, 8]) {
      const topology = p % 2 === 0 ? uniformTopology(p, p / 2) : undefined;
      for (const dtype of DTYPES) {
        if (dtype === 'i64' && p !== 3) continue; // BigInt is slow; one world size suffices
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

  it('f32 at world size 6 over 2 hosts, HO-Ring (avg) and halving-doubling (sum)', async () => {
    const length = 1 << 20;
    const p = 6;
    const topology = uniformTopology(p, 3);
    for (const algorithm of ['ho-ring', 'halving-doubling'] as const) {
      for (const op of algorithm === 'ho-ring' ? (['avg'] as const) : (['sum'] as const)) {
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
