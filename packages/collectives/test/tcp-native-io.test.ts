import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PlexusCollectivesError, type TcpTransportOptions } from '../src/index.js';
import { ADDON_FILE, loadNativeAddon } from '../src/native/addon.js';
import { TCP_NATIVE_ENV } from '../src/transport/tcp/tcp-transport.js';
import { tcpWorld } from './fixtures/tcp-world.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

const world = (n: number, perRank?: (rank: number) => Partial<TcpTransportOptions>) =>
  tcpWorld(n, cleanup, perRank);

/** Seeded bytes (xorshift), so a payload that lands shifted or torn is caught. */
function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed | 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Byte equality without vitest's element-by-element diff (slow on large arrays). */
function expectBytes(got: Uint8Array | undefined, want: Uint8Array): void {
  expect(got?.byteLength).toBe(want.byteLength);
  expect(Buffer.compare(got!, want)).toBe(0);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const built = loadNativeAddon().native !== undefined;

describe.skipIf(!built)('native TCP data path', () => {
  it('drives the connections by default; nativeIo: false and the environment turn it off', async () => {
    const [a, b] = await world(2, (rank) => (rank === 1 ? { nativeIo: false } : {}));
    expect(a!.nativeIo).toEqual({ enabled: true, why: expect.stringMatching(/native I\/O/) });
    expect(b!.nativeIo).toEqual({ enabled: false, why: 'turned off (nativeIo: false)' });
    const before = process.env[TCP_NATIVE_ENV];
    process.env[TCP_NATIVE_ENV] = '0';
    try {
      const [c] = await world(2);
      expect(c!.nativeIo.enabled).toBe(false);
      expect(c!.nativeIo.why).toMatch(/PLEXUS_TCP_NATIVE=0/);
    } finally {
      if (before === undefined) delete process.env[TCP_NATIVE_ENV];
      else process.env[TCP_NATIVE_ENV] = before;
    }
  });

  it('delivers messages that arrived before their receive was posted: into an array, as a new one, or a size mismatch', async () => {
    const [a, b] = await world(2, () => ({ frameBytes: 64 << 10, stripeMinBytes: 1024 }));
    const m0 = pattern(300_001, 1);
    const m1 = pattern(2 << 20, 2);
    const m2 = pattern(5, 3);
    const m3 = new Uint8Array(0);
    await Promise.all([a!.send(1, m0), a!.send(1, m1), a!.send(1, m2), a!.send(1, m3)]);
    await wait(50); // every message is staged on the receiving side by now
    const into = new Uint8Array(m0.byteLength);
    expect(await b!.recv(0, into)).toBe(into);
    expectBytes(into, m0);
    expectBytes(await b!.recv(0), m1);
    await expect(b!.recv(0, new Uint8Array(4))).rejects.toMatchObject({ code: 'mismatch' });
    expect((await b!.recv(0)).byteLength).toBe(0);
  });

  it('a receive posted while its message is half arrived gets it whole', async () => {
    const [a, b] = await world(2, () => ({ frameBytes: 4096, connectionsPerPeer: 3 }));
    const big = pattern(24 << 20, 4);
    const sent = a!.send(1, big);
    await wait(2);
    const into = new Uint8Array(big.byteLength);
    const got = await b!.recv(0, into);
    await sent;
    expect(got).toBe(into);
    expectBytes(into, big);
  });

  it('keeps message order per direction under many concurrent sends both ways', async () => {
    const [a, b] = await world(2, () => ({ stripeMinBytes: 4096, frameBytes: 8192 }));
    // Mostly small messages (written by the calling thread), every tenth over
    // 256 KiB (handed to the sender thread): both write the same sockets.
    const sizes = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 9 ? 300_000 + i : (i * 7919) % 50_000,
    );
    const sends = [
      ...sizes.map((n, i) => a!.send(1, pattern(n, i + 1))),
      ...sizes.map((n, i) => b!.send(0, pattern(n, i + 1001))),
    ];
    const atB = sizes.map(() => b!.recv(0));
    const atA = sizes.map((n) => a!.recv(1, new Uint8Array(n)));
    await Promise.all(sends);
    const [gotB, gotA] = await Promise.all([Promise.all(atB), Promise.all(atA)]);
    sizes.forEach((n, i) => {
      expectBytes(gotB[i], pattern(n, i + 1));
      expectBytes(gotA[i], pattern(n, i + 1001));
    });
  });

  it('a peer that closes fails pending receives at once; a message it sent first is still delivered', async () => {
    const [a, b] = await world(2);
    await a!.send(1, pattern(1000, 9));
    await a!.close();
    expectBytes(await b!.recv(0), pattern(1000, 9));
    const t0 = performance.now();
    const error = await b!.recv(0, new Uint8Array(8)).catch((e: unknown) => e);
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect((error as PlexusCollectivesError).code).toBe('broken');
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(b!.send(0, new Uint8Array(1))).rejects.toThrow(/rank 0/);
  });

  it('calls after close reject with a typed error instead of reaching the stopped engine', async () => {
    const [a] = await world(2);
    await a!.close();
    await expect(a!.send(1, new Uint8Array(4))).rejects.toMatchObject({ code: 'broken' });
    await expect(a!.recv(1)).rejects.toMatchObject({ code: 'broken' });
  });

  it('a receiver that closes mid-transfer fails the send at once with a typed error', async () => {
    const [a, b] = await world(2, () => ({ frameBytes: 64 << 10 }));
    const big = new Uint8Array(96 << 20);
    const sent = a!.send(1, big).catch((e: unknown) => e);
    void b!.recv(0, new Uint8Array(big.byteLength)).catch(() => undefined);
    await wait(5);
    await b!.close();
    const t0 = performance.now();
    const outcome = await sent;
    // Settled within 2 s of the close (the timeout is 5 s). The whole
    // message may already have been handed to the kernel; if not, the send
    // fails as broken, not as timed out.
    expect(performance.now() - t0).toBeLessThan(2_000);
    if (outcome instanceof Error) {
      expect(PlexusCollectivesError.isInstance(outcome)).toBe(true);
      expect((outcome as PlexusCollectivesError).code).toBe('broken');
    }
  }, 30_000);

  it('close() sends what was queued whole before closing', async () => {
    const [a, b] = await world(2);
    const big = pattern(24 << 20, 11);
    const sent = a!.send(1, big).catch((e: unknown) => e);
    await wait(2); // part of it is in flight
    await a!.close(); // without awaiting the send
    expectBytes(await b!.recv(0, new Uint8Array(big.byteLength)), big);
    await sent;
  });

  it('an empty message is one frame whatever the striping settings', async () => {
    const [a, b] = await world(2, () => ({ stripeMinBytes: 0, connectionsPerPeer: 3 }));
    await a!.send(1, new Uint8Array(0));
    expect((await b!.recv(0, new Uint8Array(0))).byteLength).toBe(0);
  });

  it('a Worker whose native engine is running can be terminated without taking the process down', async () => {
    const { Worker } = await import('node:worker_threads');
    const addonPath = fileURLToPath(new URL(`../native/build/${ADDON_FILE}`, import.meta.url));
    // Plain CommonJS in the worker (no TypeScript loader there): two
    // connected sockets handed to the engine, a receive left posted, then
    // the worker is terminated with the threads running.
    const script = `
      const { parentPort } = require('node:worker_threads');
      const net = require('node:net');
      const native = require(${JSON.stringify(addonPath)});
      const server = net.createServer((accepted) => {
        const fd = (s) => s._handle.fd;
        accepted.pause();
        const handle = native.tcpOpen(
          { frameBytes: 1 << 20, maxFrameBytes: 16 << 20, maxMessageBytes: 2 ** 31, stripeMinBytes: 1 << 18, checksum: 1 },
          [fd(accepted)], [0], [fd(client)], [0], 'worker peer', () => {},
        );
        native.tcpPostRecv(handle, 0, new Uint8Array(16));
        globalThis.keep = handle;
        parentPort.postMessage('running');
      });
      let client;
      server.listen(0, '127.0.0.1', () => {
        client = net.connect(server.address().port, '127.0.0.1', () => client.pause());
      });
    `;
    const worker = new Worker(script, { eval: true });
    const first = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(first).toBe('running');
    await worker.terminate();
    // Still here: the process survived the engine's teardown.
    const [a, b] = await world(2);
    await a!.send(1, new Uint8Array([1]));
    expect(Array.from(await b!.recv(0))).toEqual([1]);
  }, 30_000);
});
