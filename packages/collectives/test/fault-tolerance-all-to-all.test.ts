import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Coordinator,
  createFaultTolerantGroup,
  type FaultTolerantGroup,
  PlexusCollectivesError,
  startCoordinator,
} from '../src/index.js';
import { type FtEvent, type FtPeer, spawnFtPeer } from './fixtures/ft-harness.js';
import { ftExpectedAllToAll } from './fixtures/ft-model.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(n: number): Promise<{ c: Coordinator; gs: FaultTolerantGroup[] }> {
  const c = await startCoordinator({ minInitialPeers: n });
  cleanup.push(() => c.close());
  const gs = Array.from({ length: n }, () =>
    createFaultTolerantGroup({ host: c.host, port: c.port, timeoutMs: 5_000 }),
  );
  for (const g of gs) cleanup.push(() => g.leave());
  await Promise.all(gs.map((g) => g.join()));
  return { c, gs };
}

type Arr = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** Sequential reference of a variable-split all-to-all: what rank `r` receives. */
function referenceV(inputs: number[][], counts: number[][], r: number): number[] {
  const out: number[] = [];
  inputs.forEach((x, s) => {
    const from = counts[s]!.slice(0, r).reduce((a, b) => a + b, 0);
    out.push(...x.slice(from, from + counts[s]![r]!));
  });
  return out;
}

const plain = (x: Arr): number[] => Array.from(x as ArrayLike<number | bigint>, Number);

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' && PlexusCollectivesError.isInstance(r.reason) ? r.reason.code : r.status;

describe('fault-tolerant all-to-all (in process)', () => {
  it('equal and variable splits at 3 peers match a sequential reference for every dtype; inputs stay untouched', async () => {
    const { gs } = await world(3);
    const n = gs.length;
    const makers: ((len: number) => Arr)[] = [
      (l) => new Float32Array(l),
      (l) => new Float64Array(l),
      (l) => new Int32Array(l),
      (l) => new BigInt64Array(l),
      (l) => new Uint8Array(l),
    ];
    for (const make of makers) {
      const values = gs.map((_g, r) => Array.from({ length: 3 * 7 }, (_, i) => (r * 31 + i) % 97));
      const inputs = values.map((v) => {
        const x = make(v.length);
        v.forEach((e, i) => {
          x[i] = (x instanceof BigInt64Array ? BigInt(e) : e) as never;
        });
        return x;
      });
      const out = await Promise.all(gs.map((g, r) => g.allToAll(inputs[r]!)));
      const equal = values.map(() => new Array<number>(n).fill(7));
      for (let r = 0; r < n; r++) {
        expect(out[r]!.constructor).toBe(inputs[r]!.constructor);
        expect(plain(out[r]!)).toEqual(referenceV(values, equal, r));
        expect(plain(inputs[r]!)).toEqual(values[r]);
      }
      // Variable splits, some empty; the counts given as an array on rank 0 and as functions elsewhere.
      const counts = [
        [0, 5, 16],
        [9, 0, 12],
        [21, 0, 0],
      ];
      const res = await Promise.all(
        gs.map((g, r) =>
          r === 0
            ? g.allToAllV(inputs[r]!, counts[r]!)
            : g.allToAllV(inputs[r]!, (view) => {
                expect(view.members).toEqual([...g.members]);
                return counts[view.rank]!;
              }),
        ),
      );
      for (let r = 0; r < n; r++) {
        expect(plain(res[r]!.data)).toEqual(referenceV(values, counts, r));
        expect(res[r]!.recvCounts).toEqual(counts.map((c) => c[r]));
        expect(res[r]!.sendCounts).toEqual(counts[r]);
        expect(res[r]!.members).toEqual([...gs[0]!.members]);
        expect(plain(inputs[r]!)).toEqual(values[r]);
      }
    }
    expect(gs[0]!.lastRound!.kind).toBe('allToAll');
  }, 30_000);

  it('bad input is refused with messages that say what is accepted; misfits reject with mismatch on every member and the retry succeeds', async () => {
    const { gs } = await world(3);
    const g = gs[0]!;
    await expect(g.allToAll([1, 2, 3] as never)).rejects.toThrow(
      /^@plexus\/collectives\/fault-tolerance: expected buf to be a Float32Array, .* got Array/,
    );
    await expect(g.allToAllV(new Float32Array(3), [1, -1, 3])).rejects.toThrow(
      /^@plexus\/collectives\/fault-tolerance: allToAllV: expected sendCounts to hold non-negative integers, got -1/,
    );
    await expect(g.allToAllV(new Float32Array(3), [1, 1, 2])).rejects.toThrow(
      /allToAllV: sendCounts sum to 4 but the buffer holds 3 elements/,
    );
    await expect(g.allToAllV(new Float32Array(3), 'x' as never)).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    // A length that does not split over 3 members: every member finds it and says so.
    const odd = await Promise.allSettled(gs.map((h) => h.allToAll(new Float32Array(10))));
    expect(odd.map(codeOf)).toEqual(['mismatch', 'mismatch', 'mismatch']);
    expect((odd[0] as PromiseRejectedResult).reason.message).toMatch(
      /10 elements do not split equally over the 3 members/,
    );
    // Counts for two members at three.
    const short = await Promise.allSettled(gs.map((h) => h.allToAllV(new Int32Array(4), [2, 2])));
    expect(short.map(codeOf)).toEqual(['mismatch', 'mismatch', 'mismatch']);
    // Different lengths of an equal split: the coordinator refuses before anything is sent.
    const lengths = await Promise.allSettled(
      gs.map((h, r) => h.allToAll(new Float32Array(r === 2 ? 6 : 3))),
    );
    expect(lengths.map(codeOf)).toEqual(['mismatch', 'mismatch', 'mismatch']);
    // The group is fine afterwards.
    const ok = await Promise.all(gs.map((h, r) => h.allToAll(new Int32Array([r, r, r]))));
    for (const o of ok) expect(Array.from(o)).toEqual([0, 1, 2]);
  }, 30_000);

  it('after a member leaves, a split given as a function of the members is recomputed for the smaller world', async () => {
    const { gs } = await world(3);
    const leaving = gs[2]!;
    const stay = gs.slice(0, 2);
    const calls: number[][] = [];
    const split = (view: { members: number[] }) => {
      calls.push(view.members);
      return new Array<number>(view.members.length).fill(12 / view.members.length);
    };
    const first = await Promise.all(gs.map((g) => g.allToAllV(new Float64Array(12), split)));
    expect(first.every((r) => r.members.length === 3)).toBe(true);
    await leaving.leave();
    const inputs = stay.map((_g, r) => Float64Array.from({ length: 12 }, (_, i) => 100 * r + i));
    const res = await Promise.all(stay.map((g, r) => g.allToAllV(inputs[r]!, split)));
    const values = inputs.map((x) => Array.from(x));
    for (let r = 0; r < 2; r++) {
      expect(res[r]!.members).toHaveLength(2);
      expect(res[r]!.members).not.toContain(leaving.peerId);
      expect(Array.from(res[r]!.data)).toEqual(
        referenceV(
          values,
          [
            [6, 6],
            [6, 6],
          ],
          r,
        ),
      );
    }
    expect(calls.at(-1)).toHaveLength(2);
  }, 30_000);
});

describe('fault-tolerant all-to-all (child processes, kill -9)', () => {
  const CALL_TIMEOUT_MS = 10_000;
  // Divisible by 3 and by 2, the world sizes before and after the kill; 768 KiB a peer.
  const LENGTH = 6 << 15;

  function expectCorrect(e: FtEvent): void {
    const want = ftExpectedAllToAll(
      e.length as number,
      e.members as number[],
      e.rank as number,
      e.revision as number,
    );
    const hash = createHash('sha256')
      .update(new Uint8Array(want.buffer, want.byteOffset, want.byteLength))
      .digest('hex');
    expect(e.sha256).toBe(hash);
    expect(e.inputIntact).toBe(true);
  }

  async function run(): Promise<{
    c: Coordinator;
    peer: (name: string, extra?: Record<string, unknown>) => FtPeer;
  }> {
    const c = await startCoordinator({
      minInitialPeers: 3,
      heartbeatMs: 300,
      heartbeatTimeoutMs: 4_000,
    });
    cleanup.push(() => c.close());
    const peers: FtPeer[] = [];
    cleanup.push(() => {
      for (const p of peers) p.kill();
    });
    const peer = (name: string, extra: Record<string, unknown> = {}) => {
      const p = spawnFtPeer({
        host: c.host,
        port: c.port,
        name,
        timeoutMs: CALL_TIMEOUT_MS,
        stateLength: 1024,
        gradLength: LENGTH,
        op: 'allToAll',
        ...extra,
      });
      peers.push(p);
      return p;
    };
    return { c, peer };
  }

  it('a peer killed mid all-to-all: survivors reject within the timeout, agree on a new epoch without it, and the retry at the new world size is correct', async () => {
    const { c, peer } = await run();
    // It kills itself at the start of its third all-to-all round: the others are in that round too.
    const victim = peer('victim', { dieOn: { kind: 'allToAll', nth: 3 } });
    const survivors = [peer('s1'), peer('s2')];
    expect(await victim.exited).toBe('SIGKILL');
    const victimId = victim.peerId!;
    const dying = victim.events.find((e) => e.ev === 'dying')!;
    expect(dying.kind).toBe('allToAll');
    const epochs = new Set<number>();
    for (const s of survivors) {
      const error = await s.waitFor((e) => e.ev === 'error', 20_000);
      expect(error).toMatchObject({ op: 'allToAll', isInstance: true, code: 'broken' });
      expect(error.at - dying.at).toBeLessThan(CALL_TIMEOUT_MS);
      const retried = await s.waitFor((e) => e.ev === 'alltoall', 30_000, s.events.indexOf(error));
      expect(retried.members).toHaveLength(2);
      expect(retried.members).not.toContain(victimId);
      expect(retried.epoch as number).toBeGreaterThan(dying.epoch as number);
      expectCorrect(retried);
      epochs.add(retried.epoch as number);
      // Every all-to-all it reported, before and after the kill, was correct.
      const all = s.events.filter((e) => e.ev === 'alltoall');
      expect(all.filter((e) => (e.members as number[]).length === 3).length).toBe(2);
      for (const e of all) expectCorrect(e);
    }
    expect(epochs.size).toBe(1);
    const stats = c.stats();
    expect(stats.abortedRounds).toBeGreaterThanOrEqual(1);
    expect(stats.members.sort()).toEqual(survivors.map((s) => s.peerId!).sort());
    console.log(
      `kill mid all-to-all: survivors rejected ${survivors
        .map((s) => s.events.find((e) => e.ev === 'error')!.at - dying.at)
        .join(' and ')} ms after the kill; retry in epoch ${[...epochs][0]}`,
    );
  }, 60_000);

  it('a peer cut off mid all-to-all (SIGSTOP, sockets left open): survivors reject once its heartbeats stop, and retry without it', async () => {
    const { peer } = await run();
    const all = [
      peer('a'),
      peer('b'),
      peer('frozen', { dieOn: { kind: 'allToAll', nth: 3, signal: 'SIGSTOP' } }),
    ];
    const frozen = all[2]!;
    const dying = await frozen.waitFor((e) => e.ev === 'dying', 30_000);
    for (const s of all.slice(0, 2)) {
      const error = await s.waitFor((e) => e.ev === 'error', 20_000);
      expect(error).toMatchObject({ op: 'allToAll', isInstance: true, code: 'broken' });
      // Heartbeat timeout (4 s) plus scheduling slack, inside the 10 s per-call timeout.
      expect(error.at - dying.at).toBeLessThan(CALL_TIMEOUT_MS);
      const retried = await s.waitFor((e) => e.ev === 'alltoall', 30_000, s.events.indexOf(error));
      expect(retried.members).toHaveLength(2);
      expect(retried.members).not.toContain(frozen.peerId);
      expectCorrect(retried);
    }
    frozen.child.kill('SIGKILL');
  }, 60_000);
});
