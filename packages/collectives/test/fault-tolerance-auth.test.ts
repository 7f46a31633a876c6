import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Coordinator,
  type CoordinatorOptions,
  createFaultTolerantGroup,
  createTcpStore,
  type FaultTolerantGroup,
  type FaultTolerantGroupOptions,
  PlexusCollectivesError,
  startCoordinator,
  type TcpTransport,
} from '../src/index.js';
import { encodeMessage, readMessagesInto, type StoreMessage } from '../src/store/wire.js';
import { connectHandshake } from '../src/transport/tcp/handshake.js';
import { rawMessageSocket, recordingProxy } from './fixtures/message-sockets.js';

const SECRET = 'fault-tolerant run secret';
const SECRET_ENV = { PLEXUS_COLLECTIVES_SECRET: SECRET };
const NO_ENV = {};

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

/** A coordinator on 127.0.0.1 that records the errors of the connections it refused. */
async function coordinator(options: CoordinatorOptions = {}) {
  const rejected: PlexusCollectivesError[] = [];
  const c = await startCoordinator({
    env: NO_ENV,
    ...options,
    onRejectedConnection: (e) => rejected.push(e),
  });
  cleanup.push(() => c.close());
  return { c, rejected };
}

function peer(
  c: Coordinator,
  options: Partial<FaultTolerantGroupOptions> = {},
): FaultTolerantGroup {
  const g = createFaultTolerantGroup({
    host: c.host,
    port: c.port,
    timeoutMs: 5_000,
    env: NO_ENV,
    ...options,
  });
  cleanup.push(() => g.leave());
  return g;
}

/** What a call rejected with, and how long it took. */
async function failure(p: Promise<unknown>) {
  const t0 = performance.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(PlexusCollectivesError.isInstance(error)).toBe(true);
  return { error: error as PlexusCollectivesError, ms: performance.now() - t0 };
}

/** Expects the coordinator's typed authentication error, long before the call's timeout. */
async function expectRefused(p: Promise<unknown>, why: RegExp, timeoutMs: number) {
  const { error, ms } = await failure(p);
  expect(error.code).toBe('broken');
  expect(error.message).toMatch(
    /^@plexus\/collectives\/fault-tolerance: authentication failed with the coordinator at 127\.0\.0\.1:\d+: /,
  );
  expect(error.message).toMatch(why);
  // Refused, not left to time out.
  expect(ms).toBeLessThan(timeoutMs / 4);
}

/** Plain-JS reference of an all-reduce sum. */
const sumOf = (bufs: Int32Array[]) =>
  Array.from(bufs[0]!, (_, i) => bufs.reduce((s, b) => s + b[i]!, 0));

async function allReduceChecked(gs: FaultTolerantGroup[], length: number, seed: number) {
  const bufs = gs.map((_, r) =>
    Int32Array.from({ length }, (_, i) => ((seed * 7919 + r * 104_729 + i * 31) % 2001) - 1000),
  );
  const want = sumOf(bufs);
  await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
  for (const b of bufs) expect(Array.from(b)).toEqual(want);
}

/** The listening address of a member's current per-epoch TCP transport (internal, for the intruder test). */
function transportAddress(g: FaultTolerantGroup): { host: string; port: number } {
  const session = (g as unknown as { session: { transport?: { t: TcpTransport } } }).session;
  const address = session.transport?.t.address;
  if (!address) throw new Error('no transport yet');
  return address;
}

describe('fault-tolerant group: shared-secret authentication of every connection', () => {
  it('with the secret (option or PLEXUS_COLLECTIVES_SECRET) peers join, all-reduce, admit a newcomer and leave', async () => {
    // The coordinator and one peer take it from the environment, the others from the option.
    const { c, rejected } = await coordinator({ minInitialPeers: 2, env: SECRET_ENV });
    const gs = [peer(c, { env: SECRET_ENV }), peer(c, { secret: SECRET })];
    await Promise.all(gs.map((g) => g.join()));
    await allReduceChecked(gs, 1000, 1);
    const late = peer(c, { secret: Buffer.from(SECRET) });
    const joining = late.join();
    // updateTopology admits those already waiting: let the newcomer register first.
    while (c.stats().pending.length === 0) await new Promise((r) => setTimeout(r, 5));
    const topo = await Promise.all(gs.map((g) => g.updateTopology()));
    await joining;
    expect(topo[0]!.joined).toEqual([late.peerId]);
    gs.push(late);
    await allReduceChecked(gs, 777, 2);
    await gs[0]!.leave();
    await allReduceChecked(gs.slice(1), 64, 3);
    expect(late.worldSize).toBe(2);
    expect(rejected).toEqual([]);
    expect(c.stats().rejectedConnections).toBe(0);
  });

  it("the coordinator's rendezvous store requires the secret too", async () => {
    const { c, rejected } = await coordinator({ secret: SECRET });
    const at = { host: '127.0.0.1', port: c.storePort, timeoutMs: 20_000 };
    const none = await failure(createTcpStore(at));
    expect(none.error.message).toMatch(
      /^@plexus\/collectives\/tcp-store: authentication failed with the store at .*requires a shared secret and none was given/,
    );
    const wrong = await failure(createTcpStore({ ...at, secret: 'not it' }));
    expect(wrong.error.message).toMatch(/refused this client \(wrong proof of the shared secret\)/);
    for (const f of [none, wrong]) expect(f.ms).toBeLessThan(5_000);
    expect(rejected.at(-1)!.message).toMatch(/^@plexus\/collectives\/tcp-store: refused/);
    expect(c.stats().rejectedConnections).toBe(1);
    const ok = await createTcpStore({ ...at, secret: SECRET });
    await ok.set('k', 'v');
    expect(new TextDecoder().decode(await ok.get('k'))).toBe('v');
    await ok.close();
  });

  it('peers with a wrong or missing secret are refused at once; the members see no epoch change and keep working', async () => {
    const { c, rejected } = await coordinator({ minInitialPeers: 2, secret: SECRET });
    const gs = [peer(c, { secret: SECRET }), peer(c, { secret: SECRET })];
    await Promise.all(gs.map((g) => g.join()));
    await allReduceChecked(gs, 100, 4);
    const epochs = c.stats().epochs.length;
    const long = 60_000;
    await expectRefused(
      peer(c, { secret: 'wrong', timeoutMs: long }).join(),
      /the coordinator refused this peer \(wrong proof of the shared secret\); wrong shared secret\?/,
      long,
    );
    await expectRefused(
      peer(c, { timeoutMs: long }).join(),
      /the coordinator requires a shared secret and none was given \(option secret, or PLEXUS_COLLECTIVES_SECRET\)/,
      long,
    );
    expect(rejected.map((e) => e.message)).toEqual([
      expect.stringMatching(/fault-tolerance: refused the connection from .*wrong proof/),
      expect.stringMatching(/fault-tolerance: refused the connection from .*no proof/),
    ]);
    const stats = c.stats();
    expect(stats.rejectedConnections).toBe(2);
    expect(stats.pending).toEqual([]);
    expect(stats.epochs).toHaveLength(epochs);
    await allReduceChecked(gs, 100, 5);
    expect(gs.map((g) => g.broken)).toEqual([undefined, undefined]);
  });

  it('a peer with the secret refuses a coordinator without one, and an impostor that cannot prove it', async () => {
    const { c } = await coordinator();
    await expectRefused(
      peer(c, { secret: SECRET, timeoutMs: 60_000 }).join(),
      /did not prove the shared secret: it was started without one/,
      60_000,
    );
    // It never said hello, so the open coordinator has nobody to admit.
    expect(c.stats().pending).toEqual([]);
    expect(c.stats().epochs).toEqual([]);
    // An impostor that claims to check a secret but cannot answer the peer's challenge.
    let hello: StoreMessage | undefined;
    let challengeNonce = '0'.repeat(32);
    const impostor = createServer((s) => {
      s.on('error', () => undefined);
      readMessagesInto(s, {
        maxBytes: 4096,
        onMessage: (m) => {
          hello = m;
          s.write(
            encodeMessage({
              id: 0,
              t: 'welcome',
              peerId: 0,
              proof: 'ab'.repeat(32),
              runId: 'x',
              storePort: 1,
              heartbeatMs: 100,
              heartbeatTimeoutMs: 1_000,
            }),
          );
        },
        bad: () => undefined,
      });
      s.write(encodeMessage({ id: 0, t: 'challenge', nonce: challengeNonce, auth: true }));
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => impostor.close(() => r())));
    const port = (impostor.address() as { port: number }).port;
    const fooled = () =>
      createFaultTolerantGroup({
        host: '127.0.0.1',
        port,
        timeoutMs: 60_000,
        secret: SECRET,
        env: NO_ENV,
      });
    await expectRefused(
      fooled().join(),
      /did not prove the shared secret \(wrong secret\?\)/,
      60_000,
    );
    // The peer proved itself over the impostor's nonce only: that proof is useless against the real one.
    expect(hello).toMatchObject({ t: 'hello', proof: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(hello)).not.toContain(SECRET);
    // A challenge that is not a fresh nonce gets no proof at all.
    hello = undefined;
    challengeNonce = 'not a nonce';
    await expectRefused(fooled().join(), /malformed challenge from the coordinator/, 60_000);
    expect(hello).toBeUndefined();
  });

  it('a recorded hello replayed on a new connection is refused (fresh challenge per connection)', async () => {
    const { c, rejected } = await coordinator({ secret: SECRET });
    const proxy = await recordingProxy(c.port, cleanup);
    const honest = createFaultTolerantGroup({
      host: '127.0.0.1',
      port: proxy.port,
      timeoutMs: 5_000,
      secret: SECRET,
      env: NO_ENV,
    });
    cleanup.push(() => honest.leave());
    // The store connection goes to the real store port directly; the recorded hello is what matters.
    await honest.join();
    const recorded = proxy.sent().find((m) => m.t === 'hello')!;
    expect(recorded.proof).toMatch(/^[0-9a-f]{64}$/);
    const attacker = await rawMessageSocket(c.port, cleanup);
    const challenge = await attacker.next();
    expect(challenge).toMatchObject({ t: 'challenge', auth: true });
    attacker.send(recorded);
    expect(await attacker.next()).toMatchObject({
      t: 'refuse',
      message: 'wrong proof of the shared secret',
    });
    await attacker.closed;
    expect(rejected.at(-1)!.message).toMatch(/wrong proof of the shared secret/);
    expect(c.stats().members).toEqual([honest.peerId]);
  });

  it('before its hello a connection may send only a small message, a hello, and within handshakeTimeoutMs', async () => {
    const { c, rejected } = await coordinator({ secret: SECRET, handshakeTimeoutMs: 300 });
    const big = await rawMessageSocket(c.port, cleanup);
    await big.next();
    big.send({ id: 0, t: 'hello', name: 'x'.repeat(4096), nonce: '0'.repeat(32) });
    await big.closed;
    expect(rejected.at(-1)!.message).toMatch(/exceeds 2048/);
    const early = await rawMessageSocket(c.port, cleanup);
    await early.next();
    early.send({ id: 0, t: 'vote', ticket: 1, kind: 'allReduce', sig: 'x' });
    expect(await early.next()).toMatchObject({ t: 'refuse', message: /expected hello first/ });
    await early.closed;
    const silent = await rawMessageSocket(c.port, cleanup);
    await silent.next();
    await silent.closed;
    expect(rejected.at(-1)!.message).toMatch(/no hello within 300 ms/);
    const badNonce = await rawMessageSocket(c.port, cleanup);
    await badNonce.next();
    badNonce.send({ id: 0, t: 'hello', name: 'n', nonce: 'zz', proof: 'ab' });
    expect(await badNonce.next()).toMatchObject({ t: 'refuse', message: 'malformed hello' });
    expect(c.stats().rejectedConnections).toBe(4);
    // A stranger mid-handshake does not hold up close().
    await rawMessageSocket(c.port, cleanup);
  });

  it('the per-epoch peer links need the secret: a stranger is refused and the next all-reduce commits', async () => {
    const { c } = await coordinator({ minInitialPeers: 2, secret: SECRET });
    const refusedBy: PlexusCollectivesError[][] = [[], []];
    const gs = [0, 1].map((r) =>
      peer(c, { secret: SECRET, tcp: { onRejectedConnection: (e) => refusedBy[r]!.push(e) } }),
    );
    await Promise.all(gs.map((g) => g.join()));
    await allReduceChecked(gs, 10, 6);
    const addr = transportAddress(gs[1]!);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: addr.host, port: addr.port }, () => resolve(s));
      s.on('error', reject);
    });
    cleanup.push(() => void socket.destroy());
    const outcome = await connectHandshake(
      socket,
      'stranger',
      { rank: 0, worldSize: 2, connIndex: 0 },
      1,
      Buffer.from('not the secret'),
      5_000,
      { target: () => 'no', frame: () => undefined },
      1024,
    ).then(
      () => 'accepted',
      (e: unknown) => (e as Error).message,
    );
    expect(outcome).toMatch(
      /refused the connection: authentication failed \(wrong shared secret\?\)/,
    );
    expect(refusedBy[1]!.at(-1)!.message).toMatch(/authentication failed/);
    await allReduceChecked(gs, 10, 7);
    expect(gs[0]!.lastRound!.epoch).toBe(gs[0]!.epoch);
  });

  it('bad secrets and names are refused with messages that say what is accepted', async () => {
    const ft = /^@plexus\/collectives\/fault-tolerance: /;
    expect(() => createFaultTolerantGroup({ host: 'h', port: 1, secret: '' })).toThrow(
      /^@plexus\/collectives\/fault-tolerance: expected secret to be a non-empty string or Uint8Array \(or left out: then PLEXUS_COLLECTIVES_SECRET, else no authentication\), got an empty string/,
    );
    expect(() =>
      createFaultTolerantGroup({ host: 'h', port: 1, tcp: { secret: new Uint8Array(0) } }),
    ).toThrow(
      /expected tcp\.secret to be a non-empty string or Uint8Array.*got an empty Uint8Array/,
    );
    expect(() => createFaultTolerantGroup({ host: 'h', port: 1, secret: 42 as never })).toThrow(
      /got number/,
    );
    expect(() => createFaultTolerantGroup({ host: 'h', port: 1, name: 'n'.repeat(257) })).toThrow(
      /expected name to be a string of at most 256 characters/,
    );
    await expect(startCoordinator({ secret: '' })).rejects.toThrow(ft);
    await expect(startCoordinator({ handshakeTimeoutMs: 0 })).rejects.toThrow(
      /expected handshakeTimeoutMs to be a positive integer, got 0/,
    );
    // An empty PLEXUS_COLLECTIVES_SECRET means no secret, as for initProcessGroup.
    const { c } = await coordinator({ env: { PLEXUS_COLLECTIVES_SECRET: '' } });
    const g = peer(c, { env: { PLEXUS_COLLECTIVES_SECRET: '' } });
    await g.join();
    expect(g.worldSize).toBe(1);
  });
});
