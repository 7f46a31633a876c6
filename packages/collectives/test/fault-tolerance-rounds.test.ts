import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { electState } from '../src/fault-tolerance/election.js';
import {
  type Coordinator,
  createFaultTolerantGroup,
  digestState,
  type FaultTolerantGroup,
  PlexusCollectivesError,
  type ReduceOp,
  startCoordinator,
} from '../src/index.js';
import { writeMessage } from '../src/store/wire.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(
  n: number,
  options: Parameters<typeof startCoordinator>[0] = {},
): Promise<{ c: Coordinator; gs: FaultTolerantGroup[] }> {
  const c = await startCoordinator({ minInitialPeers: n, ...options });
  cleanup.push(() => c.close());
  const gs = Array.from({ length: n }, () =>
    createFaultTolerantGroup({ host: c.host, port: c.port, timeoutMs: 5_000 }),
  );
  for (const g of gs) cleanup.push(() => g.leave());
  await Promise.all(gs.map((g) => g.join()));
  return { c, gs };
}

/** Independent reference: sha256 of what `digestState` hashes, computed here from scratch. */
function referenceHash(state: Record<string, Float32Array | Int32Array>): string {
  const total = createHash('sha256');
  for (const name of Object.keys(state).sort()) {
    const t = state[name]!;
    const h = createHash('sha256')
      .update(`${t.constructor.name}:${t.length}:`)
      .update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength))
      .digest('hex');
    total.update(`${name}\0${h}\0`);
  }
  return total.digest('hex');
}

describe('fault-tolerant group rounds (in process)', () => {
  it('all-reduce over the members matches a plain reference for every op and dtype', async () => {
    const { gs } = await world(3);
    const n = 1001;
    const ref = (op: ReduceOp, xs: number[], int: boolean): number => {
      const f = {
        sum: (a: number, b: number) => a + b,
        avg: (a: number, b: number) => a + b,
        prod: (a: number, b: number) => a * b,
        min: (a: number, b: number) => Math.min(a, b),
        max: (a: number, b: number) => Math.max(a, b),
      }[op];
      const r = xs.reduce((a, b) => f(a, b));
      if (op !== 'avg') return r;
      return int ? Math.trunc(r / xs.length) : r / xs.length;
    };
    const ctors: (new (n: number) => Float32Array | Float64Array | Int32Array)[] = [
      Float32Array,
      Float64Array,
      Int32Array,
    ];
    for (const Ctor of ctors) {
      for (const op of ['sum', 'prod', 'min', 'max', 'avg'] as const) {
        // Small integers: every op is exact, so the reference needs no tolerance.
        const inputs = gs.map((_g, r) => {
          const x = new Ctor(n);
          for (let i = 0; i < n; i++) x[i] = ((i * (r + 3)) % 9) - 4;
          return x;
        });
        const out = inputs.map((x) => x.slice());
        await Promise.all(gs.map((g, r) => g.allReduce(out[r]!, op)));
        const want = new Ctor(n);
        for (let i = 0; i < n; i++) {
          want[i] = ref(
            op,
            inputs.map((x) => x[i]!),
            Ctor === Int32Array,
          );
        }
        for (const o of out) expect(o).toEqual(want);
      }
    }
    expect(gs[0]!.lastRound).toMatchObject({ kind: 'allReduce', members: gs.map((g) => g.peerId) });
  });

  it('state synchronisation: the minority re-fetches from the majority; hashes equal an independent sha256', async () => {
    const { gs } = await world(3);
    const make = (fill: number) => ({
      w: new Float32Array(5000).fill(fill),
      n: new Int32Array([9]),
    });
    // Rank 0 differs: popularity, not rank, decides.
    const states = [make(2), make(1), make(1)];
    const results = await Promise.all(gs.map((g, r) => g.syncSharedState(states[r]!)));
    expect(results[0]!.received).toEqual(['w']);
    expect(results[1]!.received).toEqual([]);
    const want = referenceHash(make(1));
    for (let r = 0; r < 3; r++) {
      expect(results[r]!.hash).toBe(want);
      expect(referenceHash(states[r]!)).toBe(want);
      expect(results[r]!.revision).toBe(1);
    }
    expect(digestState(states[0]!).total).toBe(want);
  });

  it('a newcomer never outvotes the members: it receives their state although it is alone with its own', async () => {
    const { c, gs } = await world(1);
    const old = { w: new Float32Array(100).fill(3) };
    await gs[0]!.syncSharedState(old);
    const late = [0, 1].map(() =>
      createFaultTolerantGroup({ host: c.host, port: c.port, timeoutMs: 5_000 }),
    );
    for (const g of late) cleanup.push(() => g.leave());
    const joining = Promise.all(late.map((g) => g.join()));
    await new Promise((r) => setTimeout(r, 200));
    const topo = await gs[0]!.updateTopology();
    await joining;
    expect(topo.joined.sort()).toEqual(late.map((g) => g.peerId).sort());
    const fresh = [{ w: new Float32Array(100) }, { w: new Float32Array(100) }];
    const res = await Promise.all([
      gs[0]!.syncSharedState(old),
      ...late.map((g, i) => g.syncSharedState(fresh[i]!)),
    ]);
    for (const f of fresh) expect(Array.from(f.w)).toEqual(Array(100).fill(3));
    expect(new Set(res.map((r) => r.hash)).size).toBe(1);
    expect(res.map((r) => r.revision)).toEqual([2, 2, 2]);
  });

  it('members calling different operations, or states of different layouts, fail with mismatch on all of them', async () => {
    const { gs } = await world(2);
    const results = await Promise.allSettled([
      gs[0]!.allReduce(new Float32Array(4), 'sum'),
      gs[1]!.allReduce(new Float32Array(5), 'sum'),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason;
      expect(PlexusCollectivesError.isInstance(e) && e.code).toBe('mismatch');
    }
    const layouts = await Promise.allSettled([
      gs[0]!.syncSharedState({ a: new Float32Array(3) }),
      gs[1]!.syncSharedState({ a: new Float64Array(3) }),
    ]);
    for (const r of layouts) expect((r as PromiseRejectedResult).reason.code).toBe('mismatch');
    // Neither failure broke the group.
    const bufs = [new Float32Array([1]), new Float32Array([2])];
    await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
    expect(Array.from(bufs[1]!)).toEqual([3]);
  });

  it('a member that never calls: the others time out with a typed error and can carry on', async () => {
    const { gs } = await world(2);
    const t = performance.now();
    const error = await gs[0]!
      .allReduce(new Float32Array(8), 'sum', { timeoutMs: 300 })
      .catch((e) => e);
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect(error.code).toBe('timeout');
    expect(performance.now() - t).toBeLessThan(3_000);
    const bufs = [new Float32Array([1, 2]), new Float32Array([3, 4])];
    await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
    expect(Array.from(bufs[0]!)).toEqual([4, 6]);
  });

  it('a member that goes silent is dropped after the heartbeat timeout; the others continue in a new epoch', async () => {
    const c = await startCoordinator({
      minInitialPeers: 3,
      heartbeatMs: 100,
      heartbeatTimeoutMs: 600,
    });
    cleanup.push(() => c.close());
    // A peer that says hello and then nothing: a process cut off from the coordinator.
    const silent = connect({ host: c.host, port: c.port });
    cleanup.push(() => silent.destroy());
    await new Promise((r) => silent.once('connect', r));
    writeMessage(silent, { id: 0, t: 'hello', name: 'silent', nonce: '0'.repeat(32) });
    const gs = [0, 1].map(() =>
      createFaultTolerantGroup({ host: c.host, port: c.port, timeoutMs: 5_000 }),
    );
    for (const g of gs) cleanup.push(() => g.leave());
    const joined = await Promise.all(gs.map((g) => g.join()));
    expect(joined[0]!.members).toHaveLength(3);
    const bufs = [new Int32Array([1]), new Int32Array([2])];
    await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
    expect(Array.from(bufs[0]!)).toEqual([3]);
    expect(gs[0]!.lastRound!.members).toEqual(gs.map((g) => g.peerId));
    expect(gs[0]!.lastRound!.epoch).toBeGreaterThan(joined[0]!.epoch);
  });

  it('a member that leaves between collectives: the others continue in a new epoch without an error', async () => {
    const { gs } = await world(3);
    const before = gs[0]!.epoch;
    await gs[2]!.leave();
    const bufs = [new Float64Array([1.5]), new Float64Array([2])];
    await Promise.all(bufs.map((b, r) => gs[r]!.allReduce(b, 'sum')));
    expect(Array.from(bufs[0]!)).toEqual([3.5]);
    expect(gs[0]!.lastRound!.members).toEqual([gs[0]!.peerId, gs[1]!.peerId]);
    expect(gs[0]!.lastRound!.epoch).toBe(before + 1);
    await expect(gs[2]!.allReduce(new Float64Array(1), 'sum')).rejects.toThrow(/left the group/);
  });

  it('when the coordinator goes away, waiting calls reject with broken and the group reports it', async () => {
    const { c, gs } = await world(2);
    const waiting = gs[0]!.allReduce(new Float32Array(4), 'sum').catch((e) => e);
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
    const error = await waiting;
    expect(PlexusCollectivesError.isInstance(error) && error.code).toBe('broken');
    expect(error.message).toMatch(/coordinator/);
    expect(gs[0]!.broken).toBeDefined();
    await expect(gs[1]!.syncSharedState({ a: new Int32Array(1) })).rejects.toThrow(/broken/);
  });

  it('with a shared secret: peers that prove it work (their TCP links too), others are refused both ways', async () => {
    const c = await startCoordinator({ minInitialPeers: 2, secret: 's3cret' });
    cleanup.push(() => c.close());
    const gs = [0, 1].map(() =>
      createFaultTolerantGroup({ host: c.host, port: c.port, timeoutMs: 5_000, secret: 's3cret' }),
    );
    for (const g of gs) cleanup.push(() => g.leave());
    await Promise.all(gs.map((g) => g.join()));
    const bufs = [new Int32Array([1, 2]), new Int32Array([3, 4])];
    await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
    expect(Array.from(bufs[0]!)).toEqual([4, 6]);
    for (const secret of ['wrong', undefined]) {
      const intruder = createFaultTolerantGroup({
        host: c.host,
        port: c.port,
        timeoutMs: 1_000,
        ...(secret ? { secret } : {}),
      });
      await expect(intruder.join()).rejects.toThrow(/^@plexus\/collectives\/fault-tolerance: /);
    }
    expect(c.stats().rejectedConnections).toBe(2);
    expect(c.stats().pending).toEqual([]);
    // A coordinator without the secret cannot pass for one that has it.
    const impostor = await startCoordinator();
    cleanup.push(() => impostor.close());
    const fooled = createFaultTolerantGroup({
      host: impostor.host,
      port: impostor.port,
      timeoutMs: 1_000,
      secret: 's3cret',
    });
    await expect(fooled.join()).rejects.toThrow(/did not prove the shared secret/);
  });

  it('bad arguments are refused with messages that say what is accepted', async () => {
    expect(() => createFaultTolerantGroup({ host: 'x', port: 1, timeoutMs: -1 })).toThrow(
      /^@plexus\/collectives\/fault-tolerance: expected timeoutMs > 0/,
    );
    await expect(startCoordinator({ heartbeatMs: 500, heartbeatTimeoutMs: 100 })).rejects.toThrow(
      /heartbeatTimeoutMs \(100\) > heartbeatMs \(500\)/,
    );
    const { gs } = await world(1);
    await expect(gs[0]!.allReduce([1, 2] as never, 'sum')).rejects.toThrow(
      /^@plexus\/collectives\/fault-tolerance: allReduce: expected a Float32Array/,
    );
    await expect(gs[0]!.syncSharedState({ a: [1] } as never)).rejects.toThrow(
      /entry "a" to be a typed array/,
    );
    await expect(gs[0]!.join()).rejects.toThrow(/already joined/);
  });
});

describe('shared-state election', () => {
  const digest = (total: string) => ({
    total,
    keys: { w: { dtype: 'Float32Array', length: 1, hash: total } },
  });

  it('prefers members that held the state, then popularity, then the lowest rank', () => {
    const plan = electState(
      [
        { rank: 0, synced: false, digest: digest('new') },
        { rank: 1, synced: false, digest: digest('new') },
        { rank: 2, synced: true, digest: digest('old') },
      ],
      true,
    )!;
    expect(plan.elected.total).toBe('old');
    expect(plan.transfers).toEqual([
      { from: 2, to: 0, keys: ['w'] },
      { from: 2, to: 1, keys: ['w'] },
    ]);
    const tie = electState(
      [
        { rank: 0, synced: true, digest: digest('a') },
        { rank: 1, synced: true, digest: digest('b') },
      ],
      true,
    )!;
    expect(tie.elected.total).toBe('a');
  });

  it('reports the state lost when no member that held it is left', () => {
    expect(electState([{ rank: 0, synced: false, digest: digest('x') }], true)).toBeUndefined();
    expect(electState([{ rank: 0, synced: false, digest: digest('x') }], false)?.transfers).toEqual(
      [],
    );
  });
});
