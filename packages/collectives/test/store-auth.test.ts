import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTcpStore,
  PlexusCollectivesError,
  startTcpStoreServer,
  type TcpStore,
  type TcpStoreServer,
  type TcpStoreServerOptions,
} from '../src/index.js';
import { encodeMessage } from '../src/store/wire.js';
import { rawMessageSocket, recordingProxy } from './fixtures/message-sockets.js';

const SECRET = 'correct horse battery staple';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A store server that records the errors of the connections it refused. */
async function server(options: TcpStoreServerOptions = {}) {
  const rejected: PlexusCollectivesError[] = [];
  const s = await startTcpStoreServer({
    host: '127.0.0.1',
    ...options,
    onRejectedConnection: (e) => {
      rejected.push(e);
      options.onRejectedConnection?.(e);
    },
  });
  cleanup.push(() => s.close());
  return { server: s, rejected };
}

async function client(port: number, secret?: string, timeoutMs = 20_000): Promise<TcpStore> {
  const c = await createTcpStore({
    host: '127.0.0.1',
    port,
    timeoutMs,
    ...(secret !== undefined ? { secret } : {}),
  });
  cleanup.push(() => c.close());
  return c;
}

/** What a failed `createTcpStore` rejected with, and how long it took. */
async function failure(p: Promise<unknown>) {
  const t0 = performance.now();
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error: error as PlexusCollectivesError, ms: performance.now() - t0 };
}

/** The server still serves: a fresh client (with `secret`) sets and reads back a key. */
async function stillServes(port: number, secret?: string) {
  const c = await client(port, secret);
  await c.set('alive', 'yes');
  expect(text(await c.get('alive'))).toBe('yes');
  await c.close();
}

function expectAuthError(error: unknown) {
  expect(PlexusCollectivesError.isInstance(error)).toBe(true);
  expect((error as PlexusCollectivesError).code).toBe('broken');
  expect((error as Error).message).toMatch(
    /^@plexus\/collectives\/tcp-store: authentication failed with the store at 127\.0\.0\.1:\d+: /,
  );
}

describe('TCP store: shared-secret authentication', () => {
  it('the right secret works, through createTcpStore({ isMaster }) as well', async () => {
    const { server: s, rejected } = await server({ secret: SECRET });
    const a = await client(s.port, SECRET);
    const b = await client(s.port, SECRET);
    await a.set('k', 'v');
    expect(text(await b.get('k'))).toBe('v');
    expect(await b.add('n', 5)).toBe(5);
    expect(rejected).toEqual([]);

    const m = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true, secret: SECRET });
    cleanup.push(() => m.close());
    const c = await client(m.server!.port, SECRET);
    await c.set('x', new Uint8Array([1, 2, 3]));
    expect(Array.from(await m.get('x'))).toEqual([1, 2, 3]);
  });

  it('a wrong secret fails fast on the client with the typed error; the server goes on', async () => {
    const { server: s, rejected } = await server({ secret: SECRET });
    const good = await client(s.port, SECRET);
    const pending = good.get('later', { timeoutMs: 10_000 });
    const { error, ms } = await failure(client(s.port, 'wrong secret'));
    expectAuthError(error);
    expect(error.message).toMatch(/refused this client \(wrong proof of the shared secret\)/);
    expect(ms).toBeLessThan(2_000); // not the 20 s connect timeout
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.message).toMatch(
      /refused the connection from 127\.0\.0\.1:\d+: wrong proof/,
    );
    // Clients connected before and after the bad one are unaffected.
    await good.set('later', 'ok');
    expect(text(await pending)).toBe('ok');
    await stillServes(s.port, SECRET);
  });

  it('a client without a secret is refused at once by a server that has one', async () => {
    const { server: s } = await server({ secret: SECRET });
    const { error, ms } = await failure(client(s.port));
    expectAuthError(error);
    expect(error.message).toMatch(/requires a shared secret and none was given/);
    expect(ms).toBeLessThan(2_000);
    await stillServes(s.port, SECRET);
  });

  it('a client with a secret refuses a server without one (it cannot prove itself)', async () => {
    const { server: s } = await server();
    const { error, ms } = await failure(client(s.port, SECRET));
    expectAuthError(error);
    expect(error.message).toMatch(/started without one/);
    expect(ms).toBeLessThan(2_000);
    await stillServes(s.port);
  });

  it('a recorded client answer replayed to a new nonce is refused', async () => {
    const { server: s, rejected } = await server({ secret: SECRET });
    const proxy = await recordingProxy(s.port, cleanup);
    const legit = await client(proxy.port, SECRET);
    await legit.set('k', 'v');
    const answer = proxy.sent()[0]!;
    expect(answer.op).toBe('auth');

    const attacker = await rawMessageSocket(s.port, cleanup);
    const hello = await attacker.next();
    expect(hello.op).toBe('hello');
    expect(hello.nonce).not.toBe(proxy.received()[0]!.nonce); // a fresh challenge
    attacker.send(answer);
    const reply = await attacker.next();
    expect(reply).toMatchObject({ op: 'refuse', message: 'wrong proof of the shared secret' });
    await attacker.closed;
    expect(rejected.at(-1)!.message).toMatch(/wrong proof of the shared secret/);
    // Nothing the attacker sends after the refusal is served.
    await stillServes(s.port, SECRET);
    expect(await legit.check(['k'])).toBe(true);
  });

  it('a recorded server greeting and welcome replayed to a new client are refused', async () => {
    const { server: s } = await server({ secret: SECRET });
    const proxy = await recordingProxy(s.port, cleanup);
    await client(proxy.port, SECRET);
    const [hello, welcome] = proxy.received();
    expect(welcome!.op).toBe('welcome');
    // An impostor replays what the real server said; the client's own nonce makes the proof stale.
    const impostor = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write(encodeMessage(hello!));
      socket.once('data', () => socket.write(encodeMessage(welcome!)));
    });
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => impostor.close(() => r())));
    const port = (impostor.address() as { port: number }).port;
    const { error, ms } = await failure(client(port, SECRET));
    expectAuthError(error);
    expect(error.message).toMatch(/did not prove the shared secret/);
    expect(ms).toBeLessThan(2_000);
  });

  it('requests before authenticating are refused and not served', async () => {
    const { server: s, rejected } = await server({ secret: SECRET });
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    c.send({ id: 1, op: 'set', key: 'owned', value: Buffer.from('x').toString('base64') });
    expect(await c.next()).toMatchObject({ op: 'refuse' });
    await c.closed;
    expect(rejected[0]!.message).toMatch(/expected the authentication answer first, got set/);
    const good = await client(s.port, SECRET);
    expect(await good.check(['owned'])).toBe(false);
  });

  it('a connection that never authenticates is closed after handshakeTimeoutMs', async () => {
    const { server: s, rejected } = await server({ secret: SECRET, handshakeTimeoutMs: 200 });
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    c.socket.write(Buffer.from([40, 0, 0, 0, 123])); // a truncated message, then silence
    await c.closed;
    expect(rejected[0]!.message).toMatch(/no authentication within 200 ms/);
    await stillServes(s.port, SECRET);
  });

  it('bad secrets in the options are argument errors', async () => {
    await expect(createTcpStore({ host: '127.0.0.1', port: 1, secret: '' })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/non-empty string/),
    });
    await expect(startTcpStoreServer({ secret: 42 as unknown as string })).rejects.toThrow(
      /^@plexus\/collectives\/tcp-store: expected secret/,
    );
    await expect(startTcpStoreServer({ handshakeTimeoutMs: -1 })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/handshakeTimeoutMs/),
    });
    await expect(startTcpStoreServer({ maxMessageBytes: 100 })).rejects.toThrow(/>= 1024/);
  });
});

describe('TCP store: garbage, oversized, truncated and replayed messages', () => {
  async function expectClosed(
    s: TcpStoreServer,
    rejected: PlexusCollectivesError[],
    bytes: Buffer,
    why: RegExp,
    secret?: string,
  ) {
    const before = rejected.length;
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    c.socket.write(bytes);
    await c.closed;
    expect(rejected.length).toBe(before + 1);
    expect(rejected.at(-1)!.message).toMatch(why);
    await stillServes(s.port, secret);
  }

  const frame = (body: string | Buffer) => {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(b.length, 0);
    return Buffer.concat([head, b]);
  };

  it('before authentication, anything over 1 KiB is refused', async () => {
    const { server: s, rejected } = await server({ secret: SECRET });
    await expectClosed(
      s,
      rejected,
      frame(Buffer.alloc(2_000, 0x20)),
      /message of 2000 bytes exceeds 1024/,
      SECRET,
    );
    // A length prefix alone is enough: the server does not wait for (or buffer) the body.
    const head = Buffer.alloc(4);
    head.writeUInt32LE(0xffffffff, 0);
    await expectClosed(s, rejected, head, /exceeds 1024/, SECRET);
  });

  it('after authentication, messages over maxMessageBytes are refused; the client refuses to send them', async () => {
    const { server: s, rejected } = await server({ maxMessageBytes: 4096 });
    await expectClosed(s, rejected, frame(Buffer.alloc(5_000, 0x20)), /exceeds 4096/);
    const c = await createTcpStore({ host: '127.0.0.1', port: s.port, maxMessageBytes: 4096 });
    cleanup.push(() => c.close());
    await expect(c.set('big', new Uint8Array(4096))).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/set request of \d+ bytes exceeds maxMessageBytes 4096/),
    });
    await c.set('small', 'fits'); // the connection is still usable
    expect(text(await c.get('small'))).toBe('fits');
  });

  it('garbage is refused and the server survives, even when the rejection observer throws', async () => {
    const { server: s, rejected } = await server({
      onRejectedConnection: () => {
        throw new Error('observer bug');
      },
    });
    await expectClosed(s, rejected, frame('{"id": 1, "op": "se'), /malformed message/);
    await expectClosed(s, rejected, frame(Buffer.from([0xff, 0xfe, 0x00, 0x80])), /malformed/);
    await expectClosed(s, rejected, frame('[1, 2, 3]'), /without an integer id/);
    await expectClosed(s, rejected, frame('{"op": "set"}'), /without an integer id/);
    await expectClosed(s, rejected, frame('{"id": 1.5, "op": "get"}'), /without an integer id/);
    await expectClosed(s, rejected, frame('null'), /without an integer id/);
  });

  it('seeded random bytes never crash the server', async () => {
    const { server: s } = await server({ secret: SECRET, handshakeTimeoutMs: 300 });
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const clients = [];
    for (let i = 0; i < 30; i++) {
      const c = await rawMessageSocket(s.port, cleanup);
      const bytes = Buffer.alloc(4 + Math.floor(rand() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      // Every third one is well framed (small length) so the parser and the handshake see it.
      if (i % 3 === 0) bytes.writeUInt32LE(bytes.length - 4, 0);
      c.socket.write(bytes);
      clients.push(c.closed);
    }
    await Promise.all(clients); // refused, or dropped by the handshake timeout
    await stillServes(s.port, SECRET);
  });

  it('a truncated message followed by a disconnect leaves nothing behind', async () => {
    const { server: s } = await server();
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    const whole = encodeMessage({
      id: 1,
      op: 'set',
      key: 'half',
      value: Buffer.from('x').toString('base64'),
    });
    c.socket.end(whole.subarray(0, whole.length - 3));
    await c.closed;
    const good = await client(s.port);
    expect(await good.check(['half'])).toBe(false);
  });

  it('a replayed (repeated or older) request id closes the connection before it is served', async () => {
    const { server: s, rejected } = await server();
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    c.send({ id: 1, op: 'add', key: 'n', amount: 1 });
    expect(await c.next()).toMatchObject({ id: 1, ok: true, value: 1 });
    c.send({ id: 1, op: 'add', key: 'n', amount: 1 });
    await c.closed;
    expect(rejected.at(-1)!.message).toMatch(/request id 1 after 1 \(replayed\?\)/);
    const good = await client(s.port);
    expect(text(await good.get('n'))).toBe('1');
  });

  it('odd but well-formed requests get error replies, not a crash', async () => {
    const { server: s } = await server();
    const c = await rawMessageSocket(s.port, cleanup);
    await c.next();
    c.send({ id: 1, op: 'set', key: { toString: 1 }, value: 3 });
    expect(await c.next()).toMatchObject({ id: 1, ok: false, code: 'invalid-argument' });
    c.send({ id: 2, op: 'get', key: 'never', timeoutMs: 1e300 }); // clamped, not a 1 ms timer
    c.send({ id: 3, op: 'nonsense' });
    expect(await c.next()).toMatchObject({ id: 3, ok: false, code: 'invalid-argument' });
    c.send({ id: 4, op: 'set', key: 'never', value: Buffer.from('now').toString('base64') });
    const replies = [await c.next(), await c.next()].sort((x, y) => x.id - y.id);
    expect(replies[0]).toMatchObject({
      id: 2,
      ok: true,
      value: Buffer.from('now').toString('base64'),
    });
    expect(replies[1]).toMatchObject({ id: 4, ok: true });
  });

  it('a client given garbage by a server rejects with a typed error', async () => {
    const fake = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => fake.close(() => r())));
    const port = (fake.address() as { port: number }).port;
    const { error, ms } = await failure(client(port));
    expect(PlexusCollectivesError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /sent a bad response: message of \d+ bytes exceeds 1024 during the handshake/,
    );
    expect(ms).toBeLessThan(2_000);
  });
});
