import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTcpStore,
  createTcpTransport,
  createTransportGroup,
  PlexusCollectivesError,
  type TcpStore,
  type TcpTransport,
  type TcpTransportOptions,
} from '../src/index.js';
import { encodeHeader, FrameType, HEADER_BYTES } from '../src/transport/tcp/frame.js';
import { acceptHandshake, connectHandshake } from '../src/transport/tcp/handshake.js';
import { tcpWorld } from './fixtures/tcp-world.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function master(): Promise<TcpStore> {
  const s = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
  cleanup.push(() => s.close());
  return s;
}

async function client(m: TcpStore): Promise<TcpStore> {
  const s = await createTcpStore({ host: '127.0.0.1', port: m.server!.port });
  cleanup.push(() => s.close());
  return s;
}

const world = (n: number, perRank?: (rank: number) => Partial<TcpTransportOptions>) =>
  tcpWorld(n, cleanup, perRank);

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    cleanup.push(async () => void s.destroy());
  });
}

/** Resolves with the next error given to `onRejectedConnection`. */
function nextRejection(list: PlexusCollectivesError[]): Promise<PlexusCollectivesError> {
  const start = list.length;
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (list.length > start) {
        clearInterval(poll);
        resolve(list[start]!);
      } else if (Date.now() - t0 > 5_000) {
        clearInterval(poll);
        reject(new Error('no rejection within 5 s'));
      }
    }, 10);
  });
}

/** The group of `ts` still computes a correct all-reduce. */
async function stillWorks(ts: TcpTransport[]): Promise<void> {
  const n = ts.length;
  const out = await Promise.all(
    ts.map((t) =>
      createTransportGroup(t, { timeoutMs: 5_000 }).allReduce(
        new Float64Array([t.rank + 1, 10]),
        'sum',
      ),
    ),
  );
  for (const o of out) expect(Array.from(o)).toEqual([(n * (n + 1)) / 2, 10 * n]);
}

describe('strangers on the listening port are refused; the group keeps working', () => {
  const cases: [string, (port: number) => Promise<void>, RegExp][] = [
    [
      'garbage bytes',
      async (port) => {
        (await rawSocket(port)).write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4)));
      },
      /bad magic/,
    ],
    [
      'an oversized frame',
      async (port) => {
        const h = encodeHeader(
          { type: FrameType.hello, seq: 0, msgSeq: 0, msgLength: 0, offset: 0 },
          new Uint8Array(0),
        );
        h.writeUInt32LE(1 << 30, 12); // claims a 1 GiB payload
        (await rawSocket(port)).write(h);
      },
      /exceeds the frame limit/,
    ],
    [
      'a truncated frame',
      async (port) => {
        const s = await rawSocket(port);
        const h = encodeHeader(
          { type: FrameType.hello, seq: 0, msgSeq: 0, msgLength: 0, offset: 0 },
          new Uint8Array(76),
        );
        s.end(h.subarray(0, HEADER_BYTES - 7));
      },
      /truncated/,
    ],
    [
      'a hello without the shared secret',
      async (port) => {
        const s = await rawSocket(port);
        await connectHandshake(
          s,
          'stranger',
          { rank: 1, worldSize: 2, connIndex: 0 },
          0,
          undefined,
          5_000,
          { target: () => 'no', frame: () => undefined },
          1024,
        ).catch(() => undefined);
      },
      /authentication failed/,
    ],
  ];
  for (const [name, attack, reason] of cases) {
    it(name, async () => {
      const rejected: PlexusCollectivesError[] = [];
      const ts = await world(2, () => ({
        secret: 'correct horse',
        onRejectedConnection: (e) => rejected.push(e),
      }));
      const next = nextRejection(rejected);
      await attack(ts[0]!.address!.port);
      const error = await next;
      expect(PlexusCollectivesError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(/^@plexus\/collectives\/tcp-transport: /);
      expect(error.message).toMatch(reason);
      await stillWorks(ts);
    });
  }

  it('ranks with different secrets refuse each other with typed errors', async () => {
    const rejected: PlexusCollectivesError[] = [];
    const m = await master();
    const c = await client(m);
    const results = await Promise.allSettled([
      createTcpTransport({
        rank: 0,
        worldSize: 2,
        store: m,
        secret: 'a',
        timeoutMs: 1_500,
        onRejectedConnection: (e) => rejected.push(e),
      }),
      createTcpTransport({ rank: 1, worldSize: 2, store: c, secret: 'b', timeoutMs: 1_500 }),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(PlexusCollectivesError.isInstance((r as PromiseRejectedResult).reason)).toBe(true);
    }
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/authentication failed/);
    expect(rejected[0]?.message).toMatch(/authentication failed/);
  });
});

describe('a member that misbehaves fails only the operations with it', () => {
  /**
   * Rank 0 is a real transport; rank 1 is this test, speaking the protocol by
   * hand. Rank 0 receives on the connection it opens to rank 1, so that is
   * where the fake writes its frames (the acceptor's challenge and welcome
   * were frames 0 and 1).
   */
  async function fakePeer(secret: string) {
    const m = await master();
    const c = await client(m);
    const accepted = new Promise<Socket>((resolve, reject) => {
      const server = createServer((socket) => {
        acceptHandshake(socket, 'fake rank 1', 1, Buffer.from(secret), 5_000, 1 << 20, () => ({
          target: () => 'no',
          frame: () => undefined,
        })).then(({ conn }) => resolve(conn.socket), reject);
      });
      server.listen(0, '127.0.0.1', async () => {
        const { port } = server.address() as { port: number };
        await c.set('plexus/tcp/addr/1', JSON.stringify({ host: '127.0.0.1', port }));
      });
      cleanup.push(() => new Promise((r) => server.close(() => r())));
    });
    const t0p = createTcpTransport({
      rank: 0,
      worldSize: 2,
      store: m,
      secret,
      connectionsPerPeer: 1,
      timeoutMs: 5_000,
    });
    const addr = JSON.parse(new TextDecoder().decode(await c.get('plexus/tcp/addr/0')));
    await connectHandshake(
      await rawSocket(addr.port),
      'fake rank 1',
      { rank: 1, worldSize: 2, connIndex: 0 },
      0,
      Buffer.from(secret),
      5_000,
      { target: () => 'no', frame: () => undefined },
      1 << 20,
    );
    const socket = await accepted;
    cleanup.push(async () => void socket.destroy());
    const t0 = await t0p;
    cleanup.push(() => t0.close());
    return { t0, socket };
  }

  const frame = (seq: number, msgSeq: number, payload: Uint8Array) =>
    encodeHeader(
      { type: FrameType.data, seq, msgSeq, msgLength: payload.byteLength, offset: 0 },
      payload,
    );

  it('a replayed frame (old sequence number) is rejected', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const payload = new Uint8Array([1, 2, 3, 4]);
    const f = frame(2, 0, payload);
    socket.write(Buffer.concat([f, Buffer.from(payload)]));
    expect(Array.from(await t0.recv(1))).toEqual([1, 2, 3, 4]);
    socket.write(Buffer.concat([f, Buffer.from(payload)])); // the same frame again
    const error = await t0.recv(1).catch((e: unknown) => e as PlexusCollectivesError);
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect((error as PlexusCollectivesError).code).toBe('broken');
    expect((error as Error).message).toMatch(/replayed/);
    // Later operations with that peer reject at once.
    await expect(t0.send(1, payload)).rejects.toThrow(/replayed/);
  });

  it('a corrupted payload (CRC32 mismatch) is rejected', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const payload = new Uint8Array([9, 9, 9, 9]);
    const f = frame(2, 0, payload);
    socket.write(Buffer.concat([f, Buffer.from([9, 9, 8, 9])]));
    await expect(t0.recv(1)).rejects.toThrow(/CRC32 mismatch/);
  });

  it('a data frame without a CRC32 is rejected where checksums are required', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const payload = new Uint8Array([1, 2]);
    const h = encodeHeader(
      { type: FrameType.data, seq: 2, msgSeq: 0, msgLength: 2, offset: 0 },
      payload,
      false,
    );
    socket.write(Buffer.concat([h, Buffer.from(payload)]));
    await expect(t0.recv(1)).rejects.toThrow(/without a CRC32/);
  });

  it('a frame whose offset would wrap around is rejected without touching memory outside the message', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const whole = new Uint8Array(1200).fill(7);
    const into = whole.subarray(100, 1100);
    const pending = t0.recv(1, into).catch((e: unknown) => e as PlexusCollectivesError);
    const payload = new Uint8Array(32).fill(9);
    const h = encodeHeader(
      { type: FrameType.data, seq: 2, msgSeq: 0, msgLength: into.byteLength, offset: 0 },
      payload,
    );
    // offset = 2^64 - 16: a sum with the payload length wraps past zero in 64 bits.
    h.writeUInt32LE(0xfffffff0, 32);
    h.writeUInt32LE(0xffffffff, 36);
    socket.write(Buffer.concat([h, Buffer.from(payload)]));
    const error = await pending;
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/overruns message 0/);
    expect(whole.every((b) => b === 7)).toBe(true);
  });

  it('a message that fully arrived before the peer failed is still delivered', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const payload = new Uint8Array([5, 6, 7]);
    socket.write(Buffer.concat([frame(2, 0, payload), Buffer.from(payload)]));
    socket.write(Buffer.from('garbage after the first message'.repeat(2)));
    await new Promise((r) => setTimeout(r, 100)); // the garbage has failed the pair by now
    expect(Array.from(await t0.recv(1))).toEqual([5, 6, 7]);
    await expect(t0.recv(1)).rejects.toMatchObject({ code: 'broken' });
  });

  it('an oversized frame from a member is rejected', async () => {
    const { t0, socket } = await fakePeer('s3cret');
    const h = frame(2, 0, new Uint8Array(0));
    h.writeUInt32LE(0xffffffff, 12);
    socket.write(h);
    await expect(t0.recv(1)).rejects.toThrow(/exceeds the frame limit/);
  });

  it.each([
    ['the native engine', true],
    ["Node's sockets", false],
  ])(
    'a peer that disconnects makes pending and later operations with it reject (%s)',
    async (_, nativeIo) => {
      const ts = await world(3, () => ({ nativeIo }));
      const pending = ts[0]!
        .recv(2, new Uint8Array(8), { timeoutMs: 5_000 })
        .catch((e: unknown) => e as PlexusCollectivesError);
      const t = performance.now();
      await ts[2]!.close();
      const error = await pending;
      expect(PlexusCollectivesError.isInstance(error)).toBe(true);
      expect((error as PlexusCollectivesError).code).toBe('broken');
      expect(performance.now() - t).toBeLessThan(2_000);
      await expect(ts[0]!.send(2, new Uint8Array(1))).rejects.toThrow(/rank 2/);
      // Ranks 0 and 1 still talk.
      const [, got] = await Promise.all([ts[0]!.send(1, new Uint8Array([7])), ts[1]!.recv(0)]);
      expect(Array.from(got)).toEqual([7]);
    },
  );

  it('a receive that times out rejects with a timeout error', async () => {
    const ts = await world(2);
    await expect(ts[0]!.recv(1, undefined, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'timeout',
    });
  });
});
