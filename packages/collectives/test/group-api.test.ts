import { describe, expect, it } from 'vitest';
import {
  createInMemoryNetwork,
  createTransportGroup,
  type ExtendedCollectiveGroupV1,
  type GroupBuffer,
  PlexusCollectivesError,
  segmentBounds,
} from '../src/index.js';
import {
  DTYPES,
  type DType,
  expectMatches,
  makeData,
  OPS,
  reference,
} from './algorithms/helpers.js';

/** `worldSize` groups over one in-memory network. */
function groups(worldSize: number, timeoutMs = 10_000): ExtendedCollectiveGroupV1[] {
  const network = createInMemoryNetwork(worldSize);
  return network.endpoints.map((e) => createTransportGroup(e, { timeoutMs }));
}

/** Plain element list, so arrays of different dtypes compare by value. */
function values(buf: GroupBuffer): (number | bigint)[] {
  return Array.from(buf as ArrayLike<number | bigint>);
}

/** Sequential reference of a concatenation. */
function concat(parts: GroupBuffer[]): (number | bigint)[] {
  return parts.flatMap(values);
}

describe('group API on every dtype, against sequential references', () => {
  const p = 3;
  for (const dtype of DTYPES) {
    it(`${dtype}: allReduce (every op, both size regimes) and reduceScatter`, async () => {
      const failures: string[] = [];
      for (const length of [37, 40_001]) {
        for (const op of OPS) {
          const g = groups(p);
          const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, op, length, r, 11));
          const want = reference(dtype, op, inputs);
          const reduced = await Promise.all(g.map((x, r) => x.allReduce(inputs[r]!.slice(), op)));
          for (const [r, out] of reduced.entries()) {
            const bad = expectMatches(dtype, op, out, want, p);
            if (bad) failures.push(`allReduce ${length} ${op} rank ${r}: ${bad}`);
          }
          const scattered = await Promise.all(g.map((x, r) => x.reduceScatter(inputs[r]!, op)));
          for (const [r, out] of scattered.entries()) {
            const [s, e] = segmentBounds(length, p, r);
            const bad = expectMatches(dtype, op, out, want.slice(s, e) as typeof want, p);
            if (bad) failures.push(`reduceScatter ${length} ${op} rank ${r}: ${bad}`);
          }
        }
      }
      expect(failures).toEqual([]);
    });

    it(`${dtype}: allGather, broadcast, allToAll, send/recv`, async () => {
      const g = groups(p);
      const length = 6;
      const inputs = Array.from({ length: p }, (_, r) => makeData(dtype, 'sum', length, r, 3));
      const gathered = await Promise.all(g.map((x, r) => x.allGather(inputs[r]!)));
      for (const out of gathered) {
        expect(out.constructor).toBe(inputs[0]!.constructor);
        expect(values(out)).toEqual(concat(inputs));
      }
      const bcast = await Promise.all(g.map((x, r) => x.broadcast(inputs[r]!.slice(), 2)));
      for (const out of bcast) expect(values(out)).toEqual(values(inputs[2]!));
      const a2a = await Promise.all(g.map((x, r) => x.allToAll(inputs[r]!)));
      const chunk = length / p;
      for (const [r, out] of a2a.entries()) {
        const want = inputs.map((inp) => inp.subarray(r * chunk, (r + 1) * chunk) as GroupBuffer);
        expect(values(out)).toEqual(concat(want));
      }
      const into = makeData(dtype, 'sum', length, 99, 3);
      await Promise.all([g[0]!.send(inputs[0]!, 2), g[2]!.recv(into, 0)]);
      expect(values(into)).toEqual(values(inputs[0]!));
    });
  }

  it('rejects an unsupported array with a message listing the accepted types', () => {
    const [g] = groups(2);
    expect(() => g!.allReduce(new Int16Array(4) as unknown as Int32Array, 'sum')).toThrow(
      /^@plexus\/collectives\/transport-group: expected a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got Int16Array/,
    );
  });
});

describe('allToAllV (variable splits)', () => {
  /** `count(src, dst)`: elements rank `src` sends to `dst`, zeros included. */
  const count = (src: number, dst: number) => (src * 3 + dst * 2) % 5;

  for (const dtype of ['f32', 'i64', 'u8'] as DType[]) {
    it(`${dtype}, world size 4: each rank receives its blocks in source order`, async () => {
      const p = 4;
      const g = groups(p);
      const inputs = Array.from({ length: p }, (_, r) => {
        const total = Array.from({ length: p }, (_, j) => count(r, j)).reduce((a, b) => a + b, 0);
        return makeData(dtype, 'sum', total, r, 5);
      });
      const results = await Promise.all(
        g.map((x, r) =>
          x.allToAllV(
            inputs[r]!,
            Array.from({ length: p }, (_, j) => count(r, j)),
          ),
        ),
      );
      for (const [r, res] of results.entries()) {
        const want: (number | bigint)[] = [];
        for (let s = 0; s < p; s++) {
          let off = 0;
          for (let j = 0; j < r; j++) off += count(s, j);
          want.push(...values(inputs[s]!).slice(off, off + count(s, r)));
        }
        expect(res.data.constructor).toBe(inputs[0]!.constructor);
        expect(res.recvCounts).toEqual(Array.from({ length: p }, (_, s) => count(s, r)));
        expect(values(res.data)).toEqual(want);
      }
    });
  }

  it('rejects sendCounts that do not sum to the length, at call time', () => {
    const [g] = groups(2);
    expect(() => g!.allToAllV(new Float32Array(5), [2, 2])).toThrow(
      /^@plexus\/collectives\/transport-group: sendCounts sum to 4 but the buffer holds 5 elements/,
    );
    expect(() => g!.allToAllV(new Float32Array(5), [5])).toThrow(/array of 2 counts/);
  });
});

describe('sub-groups', () => {
  it('two disjoint sub-groups reduce independently, then the parent still works', async () => {
    const p = 4;
    const g = groups(p);
    // Rank i of the sub-group is ranks[i] of the parent: [3, 1] makes parent rank 3 sub-rank 0.
    const subs = g.map((x, r) => x.newSubGroup(r % 2 === 1 ? [3, 1] : [0, 2]));
    expect(subs.map((s) => [s.rank, s.worldSize])).toEqual([
      [0, 2],
      [1, 2],
      [1, 2],
      [0, 2],
    ]);
    const inputs = Array.from({ length: p }, (_, r) => Int32Array.from([r, 10 * r, 100 + r]));
    const reduced = await Promise.all(subs.map((s, r) => s.allReduce(inputs[r]!.slice(), 'sum')));
    expect(values(reduced[0]!)).toEqual([2, 20, 202]);
    expect(values(reduced[2]!)).toEqual([2, 20, 202]);
    expect(values(reduced[1]!)).toEqual([4, 40, 204]);
    expect(values(reduced[3]!)).toEqual([4, 40, 204]);

    // allGather orders by sub-group rank: parent rank 3 first in [3, 1].
    const gathered = await Promise.all(subs.map((s, r) => s.allGather(inputs[r]!)));
    expect(values(gathered[1]!)).toEqual([...values(inputs[3]!), ...values(inputs[1]!)]);
    // Broadcast from sub-rank 0 (parent rank 3) and point-to-point inside the sub-group.
    const b = await Promise.all(
      [1, 3].map((r) => subs[r]!.broadcast(Float64Array.from([r, r]), 0)),
    );
    expect(b.map(values)).toEqual([
      [3, 3],
      [3, 3],
    ]);
    const into = new BigInt64Array(2);
    await Promise.all([subs[2]!.send(BigInt64Array.from([7n, -8n]), 0), subs[0]!.recv(into, 1)]);
    expect(values(into)).toEqual([7n, -8n]);

    const all = await Promise.all(g.map((x, r) => x.allReduce(Float32Array.from([r]), 'max')));
    for (const out of all) expect(values(out)).toEqual([3]);
  });

  it('nested sub-groups map ranks through both levels', async () => {
    const g = groups(4);
    const members = [2, 0, 3];
    const level1 = [0, 2, 3].map((r) => g[r]!.newSubGroup(members));
    // Sub-sub-group over level-1 ranks [2, 0] = parent ranks [3, 2].
    const level2 = [level1[1]!, level1[2]!].map((s) => s.newSubGroup([2, 0]));
    const out = await Promise.all(
      level2.map((s) => s.allGather(Uint8Array.from([s.rank * 10 + 1]))),
    );
    expect(level2.map((s) => s.rank)).toEqual([1, 0]);
    for (const o of out) expect(values(o)).toEqual([1, 11]);
  });

  it('rejects a caller outside the ranks, duplicates and out-of-range ranks', () => {
    const g = groups(3);
    expect(() => g[0]!.newSubGroup([1, 2])).toThrow(
      /^@plexus\/collectives\/transport-group: newSubGroup: rank 0 is not among the ranks \[1, 2\]/,
    );
    expect(() => g[0]!.newSubGroup([0, 0])).toThrow(/expected distinct ranks/);
    expect(() => g[0]!.newSubGroup([0, 3])).toThrow(
      /expected ranks\[1\] to be an integer in \[0, 2\]/,
    );
    expect(() => g[0]!.newSubGroup([])).toThrow(/non-empty array of ranks/);
  });
});

describe('asynchronous handles', () => {
  it('return at once, complete in issue order and give results through wait()', async () => {
    const p = 3;
    const g = groups(p);
    const finished: string[][] = g.map(() => []);
    const works = g.map((x, r) => {
      const a = x.allReduce(Float64Array.from([r, 1]), 'sum', { async: true });
      const b = x.allGather(Int32Array.from([r]), { async: true });
      const c = x.barrier({ async: true });
      const d = x.allToAllV(
        BigInt64Array.from([BigInt(r)]),
        Array.from({ length: p }, (_, j) => (j === 0 ? 1 : 0)),
        { async: true },
      );
      for (const [name, w] of [
        ['allReduce', a],
        ['allGather', b],
        ['barrier', c],
        ['allToAllV', d],
      ] as const) {
        void w.wait().then(() => finished[r]!.push(name));
      }
      return { a, b, c, d };
    });
    // Nothing has run yet: the calls were only queued.
    for (const w of works) expect(w.a.isCompleted()).toBe(false);
    for (const [r, w] of works.entries()) {
      expect(values(await w.a.wait())).toEqual([3, 3]);
      expect(values(await w.b.wait())).toEqual([0, 1, 2]);
      await w.c.wait();
      const v = await w.d.wait();
      expect(v.recvCounts).toEqual(r === 0 ? [1, 1, 1] : [0, 0, 0]);
      expect(values(v.data)).toEqual(r === 0 ? [0n, 1n, 2n] : []);
      expect(w.a.isCompleted() && w.a.isSuccess() && w.d.isCompleted()).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const f of finished) expect(f).toEqual(['allReduce', 'allGather', 'barrier', 'allToAllV']);
  });

  it('an async call and the sync call after it run in issue order on the same buffers', async () => {
    const g = groups(2);
    const results = await Promise.all(
      g.map(async (x, r) => {
        const buf = Float32Array.from([r + 1]);
        const w = x.allReduce(buf, 'sum', { async: true });
        // Queued behind the all-reduce, so it multiplies the reduced value 3 by itself.
        const prod = await x.allReduce(buf, 'prod');
        await w.wait();
        return prod[0];
      }),
    );
    expect(results).toEqual([9, 9]);
  });

  it('a per-call timeout surfaces through wait(); later calls reject as broken', async () => {
    const g = groups(2, 30_000);
    const w = g[0]!.allReduce(new Float32Array(8), 'sum', { async: true, timeoutMs: 60 });
    // Rank 1 never joins. An unawaited failing handle must not raise an unhandled rejection.
    const ignored = g[0]!.barrier({ async: true });
    const error = await w.wait().catch((e: unknown) => e);
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect((error as PlexusCollectivesError).code).toBe('timeout');
    expect(w.isCompleted()).toBe(true);
    expect(w.isSuccess()).toBe(false);
    await expect(ignored.wait()).rejects.toMatchObject({ code: 'broken' });
    expect(ignored.isCompleted()).toBe(true);
  });

  it('sub-group calls share the parent queue: a failure in one breaks both', async () => {
    const g = groups(2, 30_000);
    const sub = g[0]!.newSubGroup([0, 1]);
    const w = sub.barrier({ async: true, timeoutMs: 50 });
    const parent = g[0]!.allReduce(new Int32Array(1), 'sum', { async: true });
    await expect(w.wait()).rejects.toMatchObject({ code: 'timeout' });
    await expect(parent.wait()).rejects.toMatchObject({ code: 'broken' });
  });

  it('rejects a non-boolean async option at call time', () => {
    const [g] = groups(2);
    expect(() => g!.barrier({ async: 'yes' } as unknown as { async: true })).toThrow(
      /expected options.async to be a boolean, got string/,
    );
  });
});
