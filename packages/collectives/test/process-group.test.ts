import { afterEach, describe, expect, it } from 'vitest';
import {
  type CollectiveBuffer,
  createTcpStore,
  type InitProcessGroupOptions,
  initProcessGroup,
  type ProcessGroup,
  resolveAllReduceAlgorithm,
} from '../src/index.js';
import { cases, input } from './fixtures/cases.js';
import { freePort, localGroups } from './fixtures/local-groups.js';
import { expectClose, expected } from './fixtures/reference.js';
import { runBattery } from './fixtures/run-battery.js';

const groups: ProcessGroup[] = [];
afterEach(async () => {
  // Rank 0 hosts the store: close it last.
  for (const g of groups.splice(0).reverse()) await g.destroy();
});

async function initAll(
  worldSize: number,
  viaEnv: boolean,
  collectives?: InitProcessGroupOptions['collectives'],
): Promise<ProcessGroup[]> {
  const port = await freePort();
  const gs = await Promise.all(
    Array.from({ length: worldSize }, (_, rank) =>
      viaEnv
        ? initProcessGroup({
            env: {
              RANK: String(rank),
              WORLD_SIZE: String(worldSize),
              LOCAL_RANK: String(rank),
              LOCAL_WORLD_SIZE: String(worldSize),
              MASTER_ADDR: '127.0.0.1',
              MASTER_PORT: String(port),
            },
            timeoutMs: 10_000,
          })
        : initProcessGroup({
            rank,
            worldSize,
            masterAddr: '127.0.0.1',
            masterPort: port,
            timeoutMs: 10_000,
            tcp: { connectionsPerPeer: 2, stripeMinBytes: 2048, frameBytes: 8192 },
            ...(collectives === undefined ? {} : { collectives }),
          }),
    ),
  );
  groups.push(...gs);
  return gs;
}

describe('initProcessGroup: collectives over TCP match a sequential reference', () => {
  for (const worldSize of [1, 2, 3, 4]) {
    it(`worldSize ${worldSize} (${worldSize % 2 ? 'environment' : 'explicit options'})`, async () => {
      const gs = await initAll(worldSize, worldSize % 2 === 1);
      for (const g of gs) {
        expect(g.worldSize).toBe(worldSize);
        expect(g.localRank).toBe(g.rank);
      }
      const seed = 100 + worldSize;
      const perRank = await Promise.all(gs.map((g) => runBattery(g, seed)));
      for (const c of cases()) {
        const inputs: CollectiveBuffer[] = Array.from({ length: worldSize }, (_, r) =>
          input(c, r, worldSize, seed),
        );
        for (let r = 0; r < worldSize; r++) {
          expectClose(perRank[r]![c.id]!, expected(c, r, inputs), c, r);
        }
      }
    }, 20_000);
  }

  it('process groups have variable all-to-all and sub-groups', async () => {
    const gs = await initAll(3, false);
    // Rank r sends r + 1 + d elements of value 10r + d to rank d.
    const results = await Promise.all(
      gs.map((g) => {
        const counts = [0, 1, 2].map((d) => g.rank + 1 + d);
        const buf = Float32Array.from(
          counts.flatMap((n, d) => Array<number>(n).fill(10 * g.rank + d)),
        );
        return g.allToAllV(buf, counts);
      }),
    );
    results.forEach(({ data, recvCounts }, d) => {
      expect(recvCounts).toEqual([0, 1, 2].map((s) => s + 1 + d));
      expect(Array.from(data)).toEqual(
        [0, 1, 2].flatMap((s) => Array<number>(s + 1 + d).fill(10 * s + d)),
      );
    });
    const subs = gs.filter((g) => g.rank !== 1).map((g) => g.newSubGroup([0, 2]));
    const sums = await Promise.all(
      subs.map((sub, i) => sub.allReduce(Float64Array.of(i + 1), 'sum')),
    );
    for (const s of sums) expect(Array.from(s)).toEqual([3]);
  }, 20_000);

  it('with a store given explicitly (several groups on one store, by prefix)', async () => {
    const master = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
    try {
      const other = await createTcpStore({ host: '127.0.0.1', port: master.server!.port });
      for (const prefix of ['a', 'b']) {
        const gs = await Promise.all(
          [master, other].map((store, rank) =>
            initProcessGroup({ rank, worldSize: 2, store, prefix, env: {} }),
          ),
        );
        const out = await Promise.all(gs.map((g) => g.allGather(new Int32Array([g.rank * 10]))));
        for (const o of out) expect(Array.from(o)).toEqual([0, 10]);
        await Promise.all(gs.map((g) => g.destroy()));
      }
      await other.close();
    } finally {
      await master.close();
    }
  });
});

describe('initProcessGroup: collectives.chunkBytes reaches the ring', () => {
  it('a bad chunk size is refused by the ring; a small one gives the same sums', async () => {
    const make = (chunkBytes: number) => initAll(3, false, { algorithm: 'ring', chunkBytes });
    const bad = await make(-1);
    const refused = await Promise.allSettled(
      bad.map((g) => g.allReduce(new Float32Array(8), 'sum')),
    );
    for (const r of refused) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.message).toMatch(
        /expected chunkBytes to be a positive number of bytes, got -1/,
      );
    }
    for (const g of groups.splice(0).reverse()) await g.destroy();
    // 4 KiB chunks: a 3 x 10,000-element block is many chunks, every one summed.
    const gs = await make(4096);
    const outs = await Promise.all(
      gs.map((g) =>
        g.allReduce(
          Int32Array.from({ length: 30_000 }, (_, i) => i * (g.rank + 1)),
          'sum',
        ),
      ),
    );
    for (const o of outs) for (let i = 0; i < o.length; i += 997) expect(o[i]).toBe(6 * i);
  });
});

describe('initProcessGroup: topology from the advertised hosts', () => {
  it('ranks on two loopback addresses form two hosts; the all-reduce (HO-Ring) matches the reference', async () => {
    // Linux answers on all of 127/8: two "machines" on one.
    const gs = await localGroups(4, (rank) => ({
      tcp: { host: rank < 2 ? '127.0.0.1' : '127.0.0.2' },
    }));
    groups.push(...gs);
    for (const g of gs) expect(g.topology.hostOf).toEqual([0, 0, 1, 1]);
    const n = 100_003; // above the tree threshold, so auto picks HO-Ring across hosts
    const inputs = gs.map((g) =>
      Float64Array.from({ length: n }, (_, i) => ((i * 7 + g.rank * 13) % 101) - 50),
    );
    const want = new Float64Array(n);
    for (const x of inputs) for (let i = 0; i < n; i++) want[i]! += x[i]!;
    expect(
      resolveAllReduceAlgorithm(gs[0]!.transport, inputs[0]!, { topology: gs[0]!.topology }),
    ).toBe('ho-ring');
    const out = await Promise.all(gs.map((g, r) => g.allReduce(inputs[r]!, 'sum')));
    for (const o of out) expect(Array.from(o)).toEqual(Array.from(want));
  });
});

describe('initProcessGroup: configuration errors', () => {
  it('names the missing variable and what to do', async () => {
    await expect(initProcessGroup({ env: {} })).rejects.toThrow(
      /^@plexus\/collectives\/process-group: WORLD_SIZE is not set/,
    );
    await expect(initProcessGroup({ env: { WORLD_SIZE: '2' } })).rejects.toThrow(/RANK is not set/);
    await expect(initProcessGroup({ env: { WORLD_SIZE: '2', RANK: '2' } })).rejects.toThrow(
      /RANK to be an integer in \[0, 1\], got "2"/,
    );
    await expect(initProcessGroup({ env: { WORLD_SIZE: '2', RANK: '0' } })).rejects.toThrow(
      /MASTER_ADDR is not set/,
    );
    await expect(
      initProcessGroup({ env: { WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: 'x', MASTER_PORT: 'y' } }),
    ).rejects.toThrow(/MASTER_PORT/);
  });
});
