import { afterEach, describe, expect, it } from 'vitest';
import {
  type CollectiveBuffer,
  createThreadGroup,
  joinThreadGroup,
  PlexusCollectivesError,
  type ReduceOp,
  type SpawnedThreadGroup,
  segmentBounds,
  spawnThreadGroup,
} from '../src/index.js';
import { cases, input } from './fixtures/cases.js';
import { expectClose, expected } from './fixtures/reference.js';

// Worker entries are plain .mjs files that register tsx in their thread, then
// import the TypeScript worker (`--import tsx` in a worker's execArgv does not
// apply to its entry file on Node 20).
const battery = new URL('./fixtures/battery-entry.mjs', import.meta.url);
const timeoutWorker = new URL('./fixtures/timeout-entry.mjs', import.meta.url);
const misc = new URL('./fixtures/misc-entry.mjs', import.meta.url);

const running: SpawnedThreadGroup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.terminate()));
});

function spawn(...args: Parameters<typeof spawnThreadGroup>): SpawnedThreadGroup {
  const g = spawnThreadGroup(...args);
  running.push(g);
  return g;
}

describe('thread group collectives match a sequential reference', () => {
  for (const worldSize of [1, 2, 3, 4]) {
    it(`worldSize ${worldSize}: every op, dtype and size`, async () => {
      const seed = 42 + worldSize;
      const g = spawn(worldSize, battery, {
        channelBytes: 4096,
        timeoutMs: 20_000,
        workerData: { seed },
      });
      const perRank = (await g.results) as CollectiveBuffer[][];
      const all = cases();
      for (const c of all) {
        const inputs = Array.from({ length: worldSize }, (_, r) => input(c, r, worldSize, seed));
        for (let r = 0; r < worldSize; r++) {
          expectClose(perRank[r]![c.id]!, expected(c, r, inputs), c, r);
        }
        if (c.kind === 'allReduce') {
          // Every rank holds bit-identical results.
          for (let r = 1; r < worldSize; r++) {
            expect(Array.from(perRank[r]![c.id]!)).toEqual(Array.from(perRank[0]![c.id]!));
          }
        }
      }
    });
  }
});

describe('timeouts', () => {
  for (const op of ['allReduce', 'barrier', 'recv'] as const) {
    it(`${op}: a rank that never joins makes the others reject with the typed error`, async () => {
      const worldSize = 3;
      const g = spawn(worldSize, timeoutWorker, {
        ranks: [0, 1],
        workerData: { op },
      });
      const results = (await g.results) as {
        first?: { isInstance: boolean; code: string; message: string };
        second?: { isInstance: boolean; code: string; message: string };
        elapsedMs: number;
      }[];
      expect(results).toHaveLength(2);
      for (const r of results) {
        expect(r.first?.isInstance).toBe(true);
        expect(r.first?.code).toBe('timeout');
        expect(r.first?.message).toMatch(/^@plexus\/collectives\/thread-group: /);
        expect(r.elapsedMs).toBeLessThan(5_000);
        // The group is broken afterwards: later calls fail fast, never return stale data.
        expect(r.second?.isInstance).toBe(true);
        expect(r.second?.code).toBe('broken');
      }
    });
  }
});

describe('ordering and mismatches', () => {
  it('calls issued without awaiting run in call order', async () => {
    const g = spawn(3, misc, { workerData: { scenario: 'pipelined' }, timeoutMs: 10_000 });
    const results = (await g.results) as number[][][];
    for (const r of results) {
      expect(r).toEqual([[3, 3], [0, 0.5, 1], [102], [2]]);
    }
  });

  it('a receiver expecting another length rejects with a mismatch error', async () => {
    const g = spawn(2, misc, { workerData: { scenario: 'mismatch' } });
    const [sender, receiver] = (await g.results) as { isInstance?: boolean; code?: string }[];
    expect(receiver).toEqual({ isInstance: true, code: 'mismatch' });
    // The message fits one channel slot, so the sender finished before the check.
    expect(sender).toEqual({ ok: true });
  });
});

describe('single-thread group and validation', () => {
  it('worldSize 1 works on the main thread', async () => {
    const g = joinThreadGroup(createThreadGroup(1), 0);
    expect(g.specificationVersion).toBe('v1');
    const x = new Float64Array([1, 2, 3]);
    expect(Array.from(await g.allReduce(x, 'avg'))).toEqual([1, 2, 3]);
    expect(Array.from(await g.allGather(x))).toEqual([1, 2, 3]);
    await g.barrier();
  });

  it('rejects bad arguments with the typed error', async () => {
    const g = joinThreadGroup(createThreadGroup(2), 0);
    expect(() => g.allToAll(new Int32Array(3))).toThrow(PlexusCollectivesError);
    expect(() => g.allReduce(new Int32Array(3), 'mean' as ReduceOp)).toThrow(
      /^@plexus\/collectives\/reduce: /,
    );
    expect(() => g.send(new Int32Array(1), 0)).toThrow(/must not be this rank/);
    expect(() => joinThreadGroup(createThreadGroup(2), 2)).toThrow(PlexusCollectivesError);
    const err = new PlexusCollectivesError('x', 'timeout', 'y');
    expect(PlexusCollectivesError.isInstance(err)).toBe(true);
    expect(PlexusCollectivesError.isInstance(new Error('y'))).toBe(false);
  });

  it('segmentBounds covers the buffer with sizes differing by at most one', () => {
    for (const [len, parts] of [
      [10, 3],
      [2, 4],
      [0, 3],
      [7, 1],
    ] as const) {
      let prev = 0;
      for (let i = 0; i < parts; i++) {
        const [s, e] = segmentBounds(len, parts, i);
        expect(s).toBe(prev);
        expect(e - s).toBeGreaterThanOrEqual(Math.floor(len / parts));
        expect(e - s).toBeLessThanOrEqual(Math.ceil(len / parts));
        prev = e;
      }
      expect(prev).toBe(len);
    }
  });
});
