import { describe, expect, it } from 'vitest';
import { allToAllV as flatAllToAllV } from '../../src/algorithms/all-to-all.js';
import { barrier } from '../../src/algorithms/barrier.js';
import { allToAll, allToAllV } from '../../src/algorithms/collectives.js';
import { ringAllGather, ringReduceScatter } from '../../src/algorithms/ring.js';
import { recvArray, sendArray } from '../../src/algorithms/send-recv.js';
import { uniformTopology } from '../../src/algorithms/topology.js';
import { treeBroadcast, treeReduce } from '../../src/algorithms/tree.js';
import { segmentBounds } from '../../src/reduce.js';
import {
  allIdentical,
  DTYPES,
  expectMatches,
  makeData,
  OPS,
  onNetwork,
  reference,
  rng,
} from './helpers.js';

const SIZES = [0, 1, 7, 1001];

describe('reduceScatter / reduce / broadcast / allGather against sequential references', () => {
  it('ring reduce-scatter: every op x dtype x size x world size 1..8', async () => {
    const failures: string[] = [];
    for (let p = 1; p <= 8; p++) {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          for (const length of SIZES) {
            const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r));
            const expected = reference(dtype, op, inputs);
            const { results } = await onNetwork(p, (p2p, r) =>
              ringReduceScatter(p2p, inputs[r]!, op),
            );
            results.forEach((out, r) => {
              const [s, e] = segmentBounds(length, p, r);
              const bad = expectMatches(dtype, op, out, expected.slice(s, e) as never, p);
              if (bad) failures.push(`p=${p} ${dtype} ${op} n=${length} rank ${r}: ${bad}`);
            });
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('tree reduce to every root and tree broadcast from every root', async () => {
    const failures: string[] = [];
    for (let p = 1; p <= 8; p++) {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          const length = 13;
          const root = (p * 3 + 1) % p;
          const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r));
          const expected = reference(dtype, op, inputs);
          const { results } = await onNetwork(p, (p2p, r) =>
            treeReduce(p2p, inputs[r]!.slice(), op, root),
          );
          const bad = expectMatches(dtype, op, results[root]!, expected, p);
          if (bad) failures.push(`reduce p=${p} ${dtype} ${op}: ${bad}`);
          results.forEach((out, r) => {
            if (r !== root && !allIdentical([out, inputs[r]!])) {
              failures.push(`reduce p=${p} changed non-root buffer`);
            }
          });
        }
        for (let root = 0; root < p; root++) {
          for (const length of SIZES) {
            const src = makeData(dtype, 'sum', length, root, 9);
            const { results } = await onNetwork(p, (p2p, r) =>
              treeBroadcast(
                p2p,
                r === root ? src.slice() : makeData(dtype, 'sum', length, r),
                root,
              ),
            );
            if (!allIdentical([src, ...results]))
              failures.push(`bcast p=${p} root ${root} ${dtype}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('ring all-gather concatenates in rank order', async () => {
    for (let p = 1; p <= 8; p++) {
      for (const dtype of DTYPES) {
        for (const length of SIZES) {
          const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, 'sum', length, r));
          const { results } = await onNetwork(p, (p2p, r) => ringAllGather(p2p, inputs[r]!));
          const expected =
            inputs[0]!.constructor === BigInt64Array
              ? BigInt64Array.from(inputs.flatMap((a) => Array.from(a as BigInt64Array)))
              : (inputs[0]!.constructor as Float64ArrayConstructor).from(
                  inputs.flatMap((a) => Array.from(a as Float64Array)),
                );
          expect(allIdentical([expected, ...results]), `p=${p} ${dtype} n=${length}`).toBe(true);
        }
      }
    }
  });
});

describe('all-to-all', () => {
  it('flat and hierarchical equal splits match a direct transpose', async () => {
    for (let p = 1; p <= 8; p++) {
      for (const perHost of [1, 2, 3, 4]) {
        const topology = uniformTopology(p, perHost);
        for (const dtype of DTYPES) {
          for (const chunk of [0, 1, 5]) {
            const inputs = Array.from({ length: p }, (_, r) =>
              makeData(dtype, 'sum', chunk * p, r),
            );
            const expected = inputs.map((_, d) => {
              const out = inputs[0]!.slice(0, 0) as Float64Array;
              const parts = inputs.map((a) =>
                Array.from(a.subarray(d * chunk, (d + 1) * chunk) as unknown as ArrayLike<number>),
              );
              return (out.constructor as Float64ArrayConstructor).from(parts.flat() as number[]);
            });
            for (const algorithm of ['flat', 'hierarchical'] as const) {
              const { results } = await onNetwork(
                p,
                (p2p, r) => allToAll(p2p, inputs[r]!, { algorithm, topology }),
                topology,
              );
              results.forEach((out, d) => {
                expect(
                  allIdentical([out, expected[d]!]),
                  `${algorithm} p=${p}/${perHost} ${dtype} c=${chunk}`,
                ).toBe(true);
              });
            }
          }
        }
      }
    }
  });

  it('variable splits: hierarchical equals flat, counts reported', async () => {
    for (let p = 1; p <= 8; p++) {
      const rand = rng(p);
      const counts = Array.from({ length: p }, () =>
        Array.from({ length: p }, () => Math.floor(rand() * 4)),
      );
      const inputs = counts.map((c, r) =>
        makeData(
          'f64',
          'sum',
          c.reduce((a, b) => a + b, 0),
          r,
        ),
      );
      const topology = uniformTopology(p, 3);
      const flat = await onNetwork(p, (p2p, r) => flatAllToAllV(p2p, inputs[r]!, counts[r]!));
      const hier = await onNetwork(p, (p2p, r) =>
        allToAllV(p2p, inputs[r]!, counts[r]!, { algorithm: 'hierarchical', topology }),
      );
      for (let d = 0; d < p; d++) {
        const recvCounts = counts.map((c) => c[d]!);
        expect(flat.results[d]!.recvCounts).toEqual(recvCounts);
        expect(hier.results[d]!.recvCounts).toEqual(recvCounts);
        // Direct reference: the pieces for d, in source order.
        const expected = new Float64Array(
          inputs.flatMap((a, s) => {
            const start = counts[s]!.slice(0, d).reduce((x, y) => x + y, 0);
            return Array.from(a.subarray(start, start + counts[s]![d]!) as Float64Array);
          }),
        );
        expect(allIdentical([expected, flat.results[d]!.data, hier.results[d]!.data])).toBe(true);
      }
    }
  });

  it('hierarchical sends one message per host pair across hosts', async () => {
    const p = 8;
    const topology = uniformTopology(p, 4);
    const inputs = Array.from({ length: p }, (_, r) => makeData('f32', 'sum', 8 * p, r));
    const flat = await onNetwork(
      p,
      (p2p, r) => allToAll(p2p, inputs[r]!, { algorithm: 'flat' }),
      topology,
    );
    const hier = await onNetwork(
      p,
      (p2p, r) => allToAll(p2p, inputs[r]!, { algorithm: 'hierarchical', topology }),
      topology,
    );
    expect(flat.net.stats.interHostMessages).toBe(2 * 4 * 4);
    expect(hier.net.stats.interHostMessages).toBe(2);
  });

  it('rejects bad splits', async () => {
    const { results } = await onNetwork(2, async (p2p) =>
      allToAll(p2p, new Float32Array(3)).catch((e: Error) => e.message),
    );
    expect(String(results[0])).toMatch(
      /^@plexus\/collectives\/algorithms\/collectives: .*divisible/,
    );
    const v = await onNetwork(2, async (p2p) =>
      allToAllV(p2p, new Float32Array(3), [1, 1]).catch((e: Error) => e.message),
    );
    expect(String(v.results[0])).toMatch(/sendCounts sum to 2 but the buffer holds 3/);
  });
});

describe('barrier and send/recv', () => {
  it('no rank leaves the barrier before the last one enters', async () => {
    for (let p = 1; p <= 8; p++) {
      const entered: number[] = [];
      let lastEnter = 0;
      const { results } = await onNetwork(p, async (p2p, r) => {
        await new Promise((res) => setTimeout(res, r * 3));
        entered.push(r);
        lastEnter = entered.length;
        await barrier(p2p);
        return lastEnter;
      });
      for (const seen of results) expect(seen).toBe(p);
    }
  });

  it('send/recv moves every dtype and checks lengths', async () => {
    for (const dtype of DTYPES) {
      const src = makeData(dtype, 'sum', 17, 0);
      const { results } = await onNetwork(2, async (p2p, r) => {
        if (r === 0) {
          await sendArray(p2p, src, 1);
          return src;
        }
        return recvArray(p2p, makeData(dtype, 'sum', 17, 5), 0);
      });
      expect(allIdentical([src, results[1]!])).toBe(true);
    }
    const { results } = await onNetwork(2, async (p2p, r) => {
      if (r === 0) return sendArray(p2p, new Float32Array(4), 1);
      return recvArray(p2p, new Float32Array(3), 0).catch((e: Error) => e.message);
    });
    expect(String(results[1])).toMatch(/expected 12 bytes from rank 0, got 16/);
  });
});
