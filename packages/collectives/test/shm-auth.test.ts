// Shared-secret authentication of the shared-memory transport's control
// connections. The stranger below computes its HMACs with node:crypto from
// the documented wire format, independently of the transport's own code.
import { createHmac, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createShmTransport,
  createTcpStore,
  initProcessGroup,
  PlexusCollectivesError,
  type ProcessGroup,
  type ShmTransport,
  type StoreV1,
} from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { connectControl, controlPath } from '../src/transport/shm/control.js';
import { freePort } from './fixtures/kill-mid-all-reduce.js';
import { localGroups } from './fixtures/local-groups.js';

const groups: ProcessGroup[] = [];
const transports: ShmTransport[] = [];
const stores: StoreV1[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const g of groups.splice(0).reverse()) await g.destroy();
  for (const t of transports.splice(0)) await t.close();
  for (const s of stores.splice(0).reverse()) await s.close();
});

const { native } = loadNativeAddon();

async function storesOf(worldSize: number): Promise<StoreV1[]> {
  const port = await freePort();
  const out: StoreV1[] = [];
  // The master first, so that the clients find it.
  for (let r = 0; r < worldSize; r++) {
    out.push(
      await createTcpStore({ host: '127.0.0.1', port, isMaster: r === 0, timeoutMs: 5_000 }),
    );
  }
  stores.push(...out);
  return out;
}

function shm(
  store: StoreV1,
  rank: number,
  worldSize: number,
  secret: string | undefined,
  timeoutMs: number,
  onRejectedConnection?: (e: PlexusCollectivesError) => void,
): Promise<ShmTransport> {
  const p = createShmTransport({
    rank,
    worldSize,
    store,
    timeoutMs,
    slotBytes: 4096,
    ...(secret !== undefined ? { secret } : {}),
    ...(onRejectedConnection !== undefined ? { onRejectedConnection } : {}),
  });
  p.then((t) => transports.push(t)).catch(() => {});
  return p;
}

/** The code of the error `p` rejects with, and how long that took. */
async function outcome(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
    return { code: 'ok', message: '', ms: performance.now() - t0 };
  } catch (e) {
    expect(e).toBeInstanceOf(PlexusCollectivesError);
    const err = e as PlexusCollectivesError;
    return { code: err.code, message: err.message, ms: performance.now() - t0 };
  }
}

/** Plain-JS reference of a sum all-reduce over integer-valued doubles (exact in any order). */
function inputOf(rank: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => ((i * 31 + rank * 17) % 1001) - 500);
}

async function allReduceWorld(worldSize: number, zeroCopy: boolean): Promise<void> {
  const gs = await localGroups(worldSize, {
    transport: 'shm',
    secret: 'the run secret',
    shm: { slotBytes: 8192, zeroCopy },
  });
  groups.push(...gs);
  for (const g of gs) {
    expect(g.transportKind).toBe('shm');
    expect((g.transport as ShmTransport).zeroCopy).toBe(zeroCopy && native !== undefined);
  }
  const n = 5000; // several slots and pieces
  const bufs = gs.map((_, r) => inputOf(r, n));
  const want = new Float64Array(n);
  for (let r = 0; r < worldSize; r++) {
    const x = inputOf(r, n);
    for (let i = 0; i < n; i++) want[i]! += x[i]!;
  }
  await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
  for (const b of bufs) expect(Array.from(b)).toEqual(Array.from(want));
}

/** Reads from a raw socket until `n` bytes came or it closed; resolves with what came and whether it closed. */
function readFrom(s: Socket, n: number): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    let got: Buffer = Buffer.alloc(0);
    const finish = (closed: boolean) => {
      s.off('data', onData);
      s.off('close', onClose);
      resolve({ bytes: got, closed });
    };
    const onData = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= n) finish(false);
    };
    const onClose = () => finish(true);
    s.on('data', onData);
    s.on('close', onClose);
  });
}

async function stranger(id: string): Promise<{ socket: Socket; nonce: Buffer }> {
  const socket = await connectControl(controlPath('', id, 0), performance.now() + 5_000);
  socket.on('error', () => {});
  sockets.push(socket);
  const { bytes } = await readFrom(socket, 32);
  // Challenge: type 5, length 16, value = acceptor rank, then the nonce.
  expect(bytes.readUInt8(0)).toBe(5);
  expect(bytes.readUInt32LE(4)).toBe(16);
  expect(bytes.readDoubleLE(8)).toBe(0);
  return { socket, nonce: bytes.subarray(16, 32) };
}

function answer(secret: string, id: string, acceptorNonce: Buffer, mine: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt8(6, 0);
  head.writeUInt32LE(48, 4);
  head.writeDoubleLE(1, 8);
  const mac = createHmac('sha256', secret)
    .update(`shm-connector:${id}:0:${acceptorNonce.toString('hex')}:${mine.toString('hex')}`)
    .digest();
  return Buffer.concat([head, mine, mac]);
}

describe('createShmTransport({ secret })', () => {
  it('with the right secret, all-reduce matches the reference, zero-copy (world 3) and pwrite fallback (world 2)', async () => {
    await allReduceWorld(3, true);
    await allReduceWorld(2, false);
  });

  it('a rank with a wrong secret fails fast with a typed broken error; the acceptor refuses it', async () => {
    const [s0, s1] = await storesOf(2);
    const rejected: PlexusCollectivesError[] = [];
    const r0 = outcome(shm(s0!, 0, 2, 'right', 1_500, (e) => rejected.push(e)));
    const r1 = await outcome(shm(s1!, 1, 2, 'wrong', 10_000));
    expect(r1.code).toBe('broken');
    expect(r1.message).toMatch(/authentication with rank 0 failed: it refused this rank/);
    expect(r1.ms).toBeLessThan(1_500);
    // Rank 0 never gets an authenticated rank 1 and times out, as with any missing rank.
    expect((await r0).code).toBe('timeout');
    expect(rejected.length).toBe(1);
    expect(rejected[0]!.message).toMatch(/refused a control connection: authentication failed/);
  });

  it('a missing secret on either end fails fast with a typed broken error saying so', async () => {
    {
      const [s0, s1] = await storesOf(2);
      const r0 = outcome(shm(s0!, 0, 2, 'only rank 0 has it', 1_000));
      const r1 = await outcome(shm(s1!, 1, 2, undefined, 10_000));
      expect(r1.code).toBe('broken');
      expect(r1.message).toMatch(
        /authentication .*failed: it requires a shared secret and this rank has none/,
      );
      expect(r1.ms).toBeLessThan(1_000);
      expect((await r0).code).toBe('timeout');
    }
    {
      const [s0, s1] = await storesOf(2);
      const r0 = outcome(shm(s0!, 0, 2, undefined, 1_000));
      const r1 = await outcome(shm(s1!, 1, 2, 'only rank 1 has it', 10_000));
      expect(r1.code).toBe('broken');
      expect(r1.message).toMatch(
        /authentication .*failed: it sent no challenge: it has no shared secret/,
      );
      expect(r1.ms).toBeLessThan(1_000);
      expect((await r0).code).toBe('timeout');
    }
  });

  it("initProcessGroup passes PLEXUS_COLLECTIVES_SECRET to 'shm' and 'auto': ranks that differ fail fast", async () => {
    for (const transport of ['shm', 'auto'] as const) {
      // A shared store without a secret, so only the transport can tell the ranks apart.
      const [s0, s1] = await storesOf(2);
      const init = (rank: number, store: StoreV1, secret: string, timeoutMs: number) =>
        initProcessGroup({
          rank,
          worldSize: 2,
          store,
          transport,
          timeoutMs,
          env: { PLEXUS_COLLECTIVES_SECRET: secret },
        }).then((g) => {
          groups.push(g);
          return g;
        });
      const r0 = outcome(init(0, s0!, 'a', 1_000));
      const r1 = await outcome(init(1, s1!, 'b', 10_000));
      expect(r1.code).toBe('broken');
      expect(r1.message).toMatch(/authentication with rank 0 failed/);
      expect(r1.ms).toBeLessThan(1_000);
      expect((await r0).code).toBe('timeout');
    }
  });

  it('rejects an empty secret', async () => {
    const [s0] = await storesOf(1);
    await expect(
      createShmTransport({ rank: 0, worldSize: 1, store: s0!, secret: '' }),
    ).rejects.toThrow(/^@plexus\/collectives\/shm-transport: expected secret to be a non-empty/);
  });

  it('strangers with garbage, a replayed answer or silence are refused; the group still works', async () => {
    const secret = 'group secret';
    const [s0, s1, s2] = await storesOf(3);
    const rejected: PlexusCollectivesError[] = [];
    const t0p = shm(s0!, 0, 3, secret, 10_000, (e) => rejected.push(e));
    const id = new TextDecoder().decode(await s1!.get('plexus/shm/id'));

    // Garbage: refused (a Refuse frame, type 8) and closed.
    const g = await stranger(id);
    g.socket.write(randomBytes(200));
    const gr = await readFrom(g.socket, 1 << 20);
    expect(gr.bytes.readUInt8(0)).toBe(8);
    expect(gr.closed).toBe(true);

    // Replay: an answer that was valid for one connection's challenge is refused on the next.
    const first = await stranger(id);
    const recorded = answer(secret, id, first.nonce, randomBytes(16));
    first.socket.destroy();
    const second = await stranger(id);
    expect(second.nonce.equals(first.nonce)).toBe(false);
    second.socket.write(recorded);
    const rr = await readFrom(second.socket, 1 << 20);
    expect(rr.bytes.length).toBe(16);
    expect(rr.bytes.readUInt8(0)).toBe(8);
    expect(rr.closed).toBe(true);

    // A stranger that never answers, held open through the rendezvous.
    const silent = await stranger(id);
    const silentClosed = readFrom(silent.socket, 1 << 20);

    const [t0, t1, t2] = await Promise.all([
      t0p,
      shm(s1!, 1, 3, secret, 10_000),
      shm(s2!, 2, 3, secret, 10_000),
    ]);
    expect((await silentClosed).closed).toBe(true);
    const reasons = rejected.map((e) => e.message).join('\n');
    expect(reasons).toMatch(/expected an answer to the challenge/);
    expect(reasons).toMatch(/authentication failed/);
    // Every pair still delivers.
    const ts = [t0!, t1!, t2!];
    const msgs = ts.map((_, r) => Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7 + r) & 255));
    await Promise.all(
      ts.flatMap((t, r) => ts.flatMap((_, p) => (p === r ? [] : [t.send(p, msgs[r]!)]))),
    );
    for (let r = 0; r < 3; r++) {
      for (let p = 0; p < 3; p++) {
        if (p === r) continue;
        expect(Array.from(await ts[r]!.recv(p))).toEqual(Array.from(msgs[p]!));
      }
    }
  });

  it('a stranger that knows the secret but answers a wrong group id is refused', async () => {
    const secret = 'group secret';
    const [s0] = await storesOf(2);
    const rejected: PlexusCollectivesError[] = [];
    const t0p = outcome(shm(s0!, 0, 2, secret, 1_500, (e) => rejected.push(e)));
    const id = new TextDecoder().decode(await s0!.get('plexus/shm/id'));
    const s = await stranger(id);
    s.socket.write(answer(secret, '0123456789abcdef', s.nonce, randomBytes(16)));
    const r = await readFrom(s.socket, 1 << 20);
    expect(r.bytes.readUInt8(0)).toBe(8);
    expect(rejected.length).toBe(1);
    expect((await t0p).code).toBe('timeout');
  });
});
