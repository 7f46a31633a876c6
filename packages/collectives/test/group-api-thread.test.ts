import { describe, expect, it } from 'vitest';
import { createThreadGroup, joinThreadGroup } from '../src/index.js';
import { expectMatches, makeData, reference } from './algorithms/helpers.js';

// Every rank joins from this thread: the thread transport waits with
// Atomics.waitAsync, so ranks on one event loop make progress together.
describe('thread groups: new dtypes, allToAllV, sub-groups, async handles', () => {
  it('BigInt64Array and Uint8Array all-reduce match the sequential reference', async () => {
    const p = 3;
    const descriptor = createThreadGroup(p);
    const g = Array.from({ length: p }, (_, r) => joinThreadGroup(descriptor, r));
    for (const dtype of ['i64', 'u8'] as const) {
      for (const op of ['sum', 'prod', 'max', 'avg'] as const) {
        const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, 1001, r, 17));
        const want = reference(dtype, op, inputs);
        const works = g.map((x, r) => x.allReduce(inputs[r]!.slice(), op, { async: true }));
        for (const w of works)
          expect(expectMatches(dtype, op, await w.wait(), want, p)).toBe(undefined);
      }
    }
  });

  it('allToAllV and a sub-group over thread channels', async () => {
    const p = 3;
    const descriptor = createThreadGroup(p);
    const g = Array.from({ length: p }, (_, r) => joinThreadGroup(descriptor, r));
    // Rank r sends r + 1 copies of its rank to rank 0 and nothing elsewhere.
    const res = await Promise.all(
      g.map((x, r) => x.allToAllV(new Uint8Array(r + 1).fill(r), [r + 1, 0, 0])),
    );
    expect(Array.from(res[0]!.data)).toEqual([0, 1, 1, 2, 2, 2]);
    expect(res[0]!.recvCounts).toEqual([1, 2, 3]);
    expect(res[1]!.data.length).toBe(0);

    const subs = [2, 0].map((r) => g[r]!.newSubGroup([2, 0]));
    const out = await Promise.all(
      subs.map((s) => s.allGather(BigInt64Array.from([BigInt(s.rank) - 5n]))),
    );
    for (const o of out) expect(Array.from(o)).toEqual([-5n, -4n]);
    await Promise.all(g.map((x) => x.barrier()));
  });
});
