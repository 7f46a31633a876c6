import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createShmTransport,
  createTcpStore,
  PlexusCollectivesError,
  type ShmTransport,
  type StoreV1,
} from '../src/index.js';
import { freePort } from './fixtures/local-groups.js';

const opened: { transports: ShmTransport[]; stores: StoreV1[] }[] = [];
afterEach(async () => {
  for (const { transports, stores } of opened.splice(0)) {
    for (const t of transports) await t.close();
    for (const s of [...stores].reverse()) await s.close();
  }
});

async function world(
  worldSize: number,
  slotBytes?: number,
  timeoutMs = 5_000,
  dir?: string,
): Promise<ShmTransport[]> {
  const port = await freePort();
  const stores = await Promise.all(
    Array.from({ length: worldSize }, (_, r) =>
      createTcpStore({ host: '127.0.0.1', port, isMaster: r === 0, timeoutMs: 5_000 }),
    ),
  );
  const entry = { transports: [] as ShmTransport[], stores };
  opened.push(entry);
  entry.transports = await Promise.all(
    stores.map((store, rank) =>
      createShmTransport({
        rank,
        worldSize,
        store,
        timeoutMs,
        ...(slotBytes !== undefined ? { slotBytes } : {}),
        ...(dir !== undefined ? { dir } : {}),
      }),
    ),
  );
  return entry.transports;
}

/** Deterministic bytes that differ per (seed, index), as the plain-JS reference. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function segmentsOf(t: ShmTransport): string[] {
  return readdirSync(t.dir).filter((f) => f.startsWith(`plexus-shm-${t.id}`));
}

describe('createShmTransport', () => {
  it('moves messages of 0, 1, odd and several-slot sizes intact and in order', async () => {
    const [a, b] = await world(2, 1000);
    const sizes = [0, 1, 7, 999, 1000, 1001, 2000, 4321, 0, 3 * 1000 + 17];
    const sent = sizes.map((n, i) => pattern(n, i + 1));
    const [, got] = await Promise.all([
      Promise.all(sent.map((m) => a!.send(1, m))),
      Promise.all(sizes.map(() => b!.recv(0))),
    ]);
    expect(got.map((m) => m.byteLength)).toEqual(sizes);
    for (let i = 0; i < sizes.length; i++) expect(got[i]).toEqual(sent[i]);
  });

  it('streams several MiB through two 4 MiB slots, into a given buffer, both directions at once', async () => {
    const [a, b] = await world(2);
    const n = 9 * (1 << 20) + 3;
    const ab = pattern(n, 11);
    const ba = pattern(n, 12);
    const into = new Uint8Array(n);
    const [, , fromA, fromB] = await Promise.all([
      a!.send(1, ab),
      b!.send(0, ba),
      b!.recv(0, into),
      a!.recv(1),
    ]);
    expect(fromA).toBe(into);
    expect(Buffer.from(fromA).equals(Buffer.from(ab))).toBe(true);
    expect(Buffer.from(fromB).equals(Buffer.from(ba))).toBe(true);
  });

  it('keeps per-pair order with four ranks all sending to all concurrently', async () => {
    const ts = await world(4, 512);
    const msg = (src: number, dst: number, k: number) =>
      pattern(100 * k + 37 * src + dst, 1000 * src + 10 * dst + k);
    const results = await Promise.all(
      ts.flatMap((t, r) =>
        [0, 1, 2, 3]
          .filter((p) => p !== r)
          .flatMap((p) => [
            ...[0, 1, 2].map((k) => t.send(p, msg(r, p, k)).then(() => null)),
            ...[0, 1, 2].map((k) => t.recv(p).then((got) => ({ got, want: msg(p, r, k) }))),
          ]),
      ),
    );
    let checked = 0;
    for (const r of results) {
      if (r === null) continue;
      expect(r.got).toEqual(r.want);
      checked++;
    }
    expect(checked).toBe(4 * 3 * 3);
  });

  it('rejects a receive buffer of the wrong size with mismatch and stays aligned', async () => {
    const [a, b] = await world(2, 64);
    const [, err] = await Promise.all([
      a!.send(1, pattern(200, 1)),
      b!.recv(0, new Uint8Array(10)).catch((e: unknown) => e),
    ]);
    expect(err).toMatchObject({ code: 'mismatch' });
    const next = pattern(5, 2);
    await a!.send(1, next);
    expect(await b!.recv(0)).toEqual(next);
  });

  it('times out a recv with a typed error and rejects bad arguments', async () => {
    const [a] = await world(2);
    const t = performance.now();
    const err = await a!.recv(1, undefined, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(PlexusCollectivesError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: 'timeout' });
    expect((err as Error).message).toMatch(
      /^@plexus\/collectives\/shm-transport: recv from rank 1/,
    );
    expect(performance.now() - t).toBeGreaterThanOrEqual(90);
    await expect(a!.send(0, new Uint8Array(1))).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(a!.send(2, new Uint8Array(1))).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(a!.send(1, [1, 2] as unknown as Uint8Array)).rejects.toThrow(
      /^@plexus\/collectives\/shm-transport: expected bytes to be a Uint8Array/,
    );
  });

  it('a send completes before the peer posts its receive (the receiver drains eagerly)', async () => {
    const [a, b] = await world(2, 16);
    const first = pattern(100, 4);
    const second = pattern(33, 5);
    await a!.send(1, first);
    await a!.send(1, second);
    expect(await b!.recv(0)).toEqual(first);
    const into = new Uint8Array(33);
    expect(await b!.recv(0, into)).toBe(into);
    expect(into).toEqual(second);
    await a!.send(1, pattern(50, 6));
    await expect(b!.recv(0, new Uint8Array(49))).rejects.toMatchObject({ code: 'mismatch' });
  });

  it('leaves no segment files once connected, and rejects pending calls on close', async () => {
    const ts = await world(3);
    for (const t of ts) expect(segmentsOf(t)).toEqual([]);
    expect(ts[0]!.dir).toBe('/dev/shm');
    const pending = ts[1]!.recv(2);
    await ts[2]!.close();
    await expect(pending).rejects.toMatchObject({ code: 'broken' });
    await expect(ts[2]!.send(0, new Uint8Array(1))).rejects.toMatchObject({ code: 'broken' });
    await expect(ts[0]!.recv(2)).rejects.toMatchObject({ code: 'broken' });
    // The other pairs keep working.
    const [, got] = await Promise.all([ts[0]!.send(1, pattern(3, 3)), ts[1]!.recv(0)]);
    expect(got).toEqual(pattern(3, 3));
  });

  it('delivers a message sent just before the sender closed', async () => {
    const [a, b] = await world(2, 1 << 20);
    await a!.send(1, pattern(1000, 9));
    await a!.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(await b!.recv(0)).toEqual(pattern(1000, 9));
    await expect(b!.recv(0)).rejects.toMatchObject({ code: 'broken' });
  });

  it('uses another directory when given one, and leaves nothing there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-shm-dir-'));
    try {
      const [a, b] = await world(2, 100, 5_000, dir);
      expect(a!.dir).toBe(dir);
      const m = pattern(1234, 8);
      const [, got] = await Promise.all([a!.send(1, m), b!.recv(0)]);
      expect(got).toEqual(m);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rendezvous without the peer times out with a typed error and leaves no files', async () => {
    const store = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
    opened.push({ transports: [], stores: [store] });
    const before = new Set(readdirSync('/dev/shm'));
    const err = await createShmTransport({ rank: 0, worldSize: 2, store, timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'timeout' });
    expect((err as Error).message).toMatch(
      /^@plexus\/collectives\/shm-transport: rank 0: shared-memory rendezvous timed out after 200 ms \(ranks 1 not connected\)/,
    );
    expect(readdirSync('/dev/shm').filter((f) => !before.has(f))).toEqual([]);
    await store.set('other/id', 'not-an-id');
    await expect(
      createShmTransport({ rank: 1, worldSize: 2, store, prefix: 'other', timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'mismatch' });
    await expect(
      createShmTransport({ rank: 0, worldSize: 2, store, slotBytes: 0 }),
    ).rejects.toThrow(/^@plexus\/collectives\/shm-transport: expected slotBytes to be an integer/);
  });

  it('works as a world of one', async () => {
    const [a] = await world(1);
    expect(a!.worldSize).toBe(1);
    await expect(a!.send(0, new Uint8Array(1))).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

/**
 * A store (master here) and rank 1 of a 2-rank shm transport in a child
 * process; `readyLine` resolves once the child's transport is up.
 */
async function peerProcess() {
  const port = await freePort();
  const store = await createTcpStore({
    host: '127.0.0.1',
    port,
    isMaster: true,
    timeoutMs: 5_000,
  });
  const src = new URL('../src/index.ts', import.meta.url).href;
  const script = `
    const { createTcpStore, createShmTransport } = await import(${JSON.stringify(src)});
    const store = await createTcpStore({ host: '127.0.0.1', port: ${port}, timeoutMs: 5000 });
    await createShmTransport({ rank: 1, worldSize: 2, store, timeoutMs: 5000 });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const readyLine = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && resolve());
  });
  return { store, child, readyLine };
}

describe('createShmTransport with a peer in another process', () => {
  it('a send times out with a typed error while the peer process is stopped (SIGSTOP)', async () => {
    const { store, child, readyLine } = await peerProcess();
    try {
      const t = await createShmTransport({
        rank: 0,
        worldSize: 2,
        store,
        slotBytes: 1024,
        timeoutMs: 5_000,
      });
      opened.push({ transports: [t], stores: [store] });
      await readyLine;
      child.kill('SIGSTOP');
      // Two slots fill; the third chunk waits for a 'free' that never comes.
      const err = await t
        .send(1, new Uint8Array(3 * 1024), { timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(PlexusCollectivesError.isInstance(err)).toBe(true);
      expect(err).toMatchObject({ code: 'timeout' });
      expect((err as Error).message).toMatch(
        /^@plexus\/collectives\/shm-transport: send of 3072 bytes to rank 1 timed out after 300 ms/,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a SIGKILLed peer makes a pending recv reject with broken well within the timeout', async () => {
    const { store, child, readyLine } = await peerProcess();
    try {
      const t = await createShmTransport({ rank: 0, worldSize: 2, store, timeoutMs: 20_000 });
      opened.push({ transports: [t], stores: [store] });
      await readyLine;
      const pending = t.recv(1).catch((e: unknown) => e);
      const killedAt = performance.now();
      child.kill('SIGKILL');
      const err = await pending;
      expect(err).toMatchObject({ code: 'broken' });
      expect((err as Error).message).toMatch(/control connection with rank 1 closed/);
      expect(performance.now() - killedAt).toBeLessThan(3_000);
      await expect(t.send(1, new Uint8Array(1))).rejects.toMatchObject({ code: 'broken' });
      expect(segmentsOf(t)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
