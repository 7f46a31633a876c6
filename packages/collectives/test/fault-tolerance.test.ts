import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, startCoordinator } from '../src/index.js';
import { type FtEvent, type FtPeer, spawnFtPeer } from './fixtures/ft-harness.js';
import { type FtPeerConfig, ftExpectedSum } from './fixtures/ft-model.js';

const coordinators: Coordinator[] = [];
const peers: FtPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.kill();
  for (const c of coordinators.splice(0)) await c.close();
});

const CALL_TIMEOUT_MS = 10_000;

async function coordinator(minInitialPeers: number): Promise<Coordinator> {
  const c = await startCoordinator({
    minInitialPeers,
    heartbeatMs: 300,
    heartbeatTimeoutMs: 4_000,
  });
  coordinators.push(c);
  return c;
}

function peer(c: Coordinator, name: string, extra: Partial<FtPeerConfig> = {}): FtPeer {
  const p = spawnFtPeer({
    host: c.host,
    port: c.port,
    name,
    timeoutMs: CALL_TIMEOUT_MS,
    stateLength: 4096,
    gradLength: 4096,
    ...extra,
  });
  peers.push(p);
  return p;
}

/** The all-reduce result a peer printed matches an independent sum over the round's members. */
function expectCorrect(e: FtEvent): void {
  const members = e.members as number[];
  expect(e.sample).toEqual(ftExpectedSum(16, members, e.revision as number));
}

const allReduced =
  (pred: (e: FtEvent) => boolean = () => true) =>
  (e: FtEvent) =>
    e.ev === 'allreduce' && pred(e);

describe('fault tolerance (child processes, kill -9)', () => {
  it('a peer killed mid all-reduce: survivors reject within the timeout, agree on a new epoch without it, and the retry is correct', async () => {
    const c = await coordinator(3);
    // The victim kills itself at the start of its third all-reduce round: the others are in that round too.
    const victim = peer(c, 'victim', { gradLength: 1 << 19, dieOn: { kind: 'allReduce', nth: 3 } });
    const survivors = [
      peer(c, 's1', { gradLength: 1 << 19 }),
      peer(c, 's2', { gradLength: 1 << 19 }),
    ];
    expect(await victim.exited).toBe('SIGKILL');
    const victimId = victim.peerId!;
    // Its last line, printed just before it sends itself SIGKILL.
    const dying = victim.events.find((e) => e.ev === 'dying')!;
    const killedAt = dying.at;
    expect(dying.kind).toBe('allReduce');
    const epochs = new Set<number>();
    for (const s of survivors) {
      const error = await s.waitFor((e) => e.ev === 'error', 20_000);
      // Typed, and no hang: within the per-call timeout of the kill.
      expect(error).toMatchObject({ op: 'allReduce', isInstance: true, code: 'broken' });
      expect(error.at - killedAt).toBeLessThan(CALL_TIMEOUT_MS);
      const from = s.events.indexOf(error);
      const retried = await s.waitFor(allReduced(), 30_000, from);
      expect(retried.members).toHaveLength(2);
      expect(retried.members).not.toContain(victimId);
      expect(retried.epoch as number).toBeGreaterThan(dying.epoch as number);
      expectCorrect(retried);
      epochs.add(retried.epoch as number);
      // Every all-reduce this peer reported (before and after the kill) was correct.
      for (const e of s.events.filter(allReduced())) expectCorrect(e);
    }
    expect(epochs.size).toBe(1);
    const stats = c.stats();
    expect(stats.abortedRounds).toBeGreaterThanOrEqual(1);
    expect(stats.members.sort()).toEqual(survivors.map((s) => s.peerId!).sort());
    console.log(
      `kill mid all-reduce: survivors rejected ${survivors
        .map((s) => s.events.find((e) => e.ev === 'error')!.at - killedAt)
        .join(' and ')} ms after the kill; retry in epoch ${[...epochs][0]}`,
    );
  }, 60_000);

  it('a peer cut off mid all-reduce (SIGSTOP, sockets left open): survivors reject once its heartbeats stop, and retry without it', async () => {
    const c = await coordinator(3);
    const big = { gradLength: 1 << 19 };
    const all = [
      peer(c, 'a', big),
      peer(c, 'b', big),
      peer(c, 'frozen', { ...big, dieOn: { kind: 'allReduce', nth: 3, signal: 'SIGSTOP' } }),
    ];
    const frozen = all[2]!;
    // It freezes itself at the start of its third all-reduce round, with its TCP connections
    // left open: only the coordinator's heartbeat timeout can tell.
    const dying = await frozen.waitFor((e) => e.ev === 'dying', 30_000);
    for (const s of all.slice(0, 2)) {
      const error = await s.waitFor((e) => e.ev === 'error', 20_000);
      expect(error).toMatchObject({ op: 'allReduce', isInstance: true, code: 'broken' });
      // Heartbeat timeout (4 s) plus scheduling slack, well inside the 10 s per-call timeout.
      expect(error.at - dying.at).toBeLessThan(CALL_TIMEOUT_MS);
      const retried = await s.waitFor(allReduced(), 30_000, s.events.indexOf(error));
      expect(retried.members).not.toContain(frozen.peerId);
      expect(retried.members).toHaveLength(2);
      expectCorrect(retried);
    }
    frozen.child.kill('SIGKILL');
  }, 60_000);

  it('a peer killed while it joins: the members go on without it; the next joiner receives bit-identical state', async () => {
    const c = await coordinator(2);
    const founders = [
      peer(c, 'f1', { stateLength: 1 << 20 }),
      peer(c, 'f2', { stateLength: 1 << 20 }),
    ];
    for (const f of founders) await f.waitFor(allReduced(), 30_000);
    // Killed at the start of its first state synchronisation, while the members serve it the state.
    const doomed = peer(c, 'doomed', { stateLength: 1 << 20, dieOn: { kind: 'sync', nth: 1 } });
    expect(await doomed.exited).toBe('SIGKILL');
    const doomedId = doomed.peerId!;
    const admittedIn = doomed.events.find((e) => e.ev === 'joined')!.epoch as number;
    for (const f of founders) {
      const error = await f.waitFor((e) => e.ev === 'error', 20_000);
      expect(error).toMatchObject({ op: 'sync', isInstance: true, code: 'broken' });
      const after = await f.waitFor(allReduced(), 30_000, f.events.indexOf(error));
      expect(after.members).toHaveLength(2);
      expect(after.members).not.toContain(doomedId);
      expect(after.epoch as number).toBeGreaterThan(admittedIn);
      expectCorrect(after);
    }
    const newcomer = peer(c, 'newcomer', { stateLength: 1 << 20 });
    const synced = await newcomer.waitFor((e) => e.ev === 'sync', 30_000);
    expect(synced.received).toEqual(expect.arrayContaining(['w', 'step']));
    // Its own sha256 of what it holds equals every founder's at the same revision.
    expect(synced.local).toBe(synced.hash);
    for (const f of founders) {
      const same = await f.waitFor(
        (e) => e.ev === 'sync' && e.revision === synced.revision,
        30_000,
      );
      expect(same.local).toBe(synced.local);
    }
    const three = await newcomer.waitFor(allReduced(), 30_000);
    expect(three.members).toHaveLength(3);
    expectCorrect(three);
    const history = c.stats().epochs;
    expect(history.some((e) => e.members.includes(doomedId))).toBe(true);
    expect(history.at(-1)!.members).not.toContain(doomedId);
  }, 90_000);
});
