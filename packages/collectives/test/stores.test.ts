import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisStore,
  createTcpStore,
  PlexusCollectivesError,
  type StoreV1,
} from '../src/index.js';
import { freePort } from './fixtures/local-groups.js';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/** The StoreV1 semantics every store must have; `make` returns two clients of one store. */
function storeSuite(name: string, make: () => Promise<[StoreV1, StoreV1]>, ready: () => boolean) {
  describe(`${name}: StoreV1 semantics`, () => {
    let a: StoreV1;
    let b: StoreV1;
    beforeAll(async () => {
      if (!ready()) return;
      [a, b] = await make();
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });
    const test = (title: string, fn: () => Promise<void>) =>
      it(title, async (ctx) => {
        if (!ready()) {
          ctx.skip();
          return;
        }
        await fn();
      });

    test('set / get round-trips strings and bytes between clients', async () => {
      await a.set('s', 'héllo');
      expect(text(await b.get('s'))).toBe('héllo');
      await a.set('bin', new Uint8Array([0, 255, 1, 128]));
      expect(Array.from(await b.get('bin'))).toEqual([0, 255, 1, 128]);
      await b.set('s', 'again');
      expect(text(await a.get('s'))).toBe('again');
    });

    test('get waits until another client sets the key', async () => {
      const pending = b.get('later', { timeoutMs: 5_000 });
      await new Promise((r) => setTimeout(r, 100));
      await a.set('later', 'now');
      expect(text(await pending)).toBe('now');
    });

    test('get rejects with a timeout error when the key never comes', async () => {
      const t = performance.now();
      const error = await b.get('never', { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(PlexusCollectivesError.isInstance(error)).toBe(true);
      expect((error as PlexusCollectivesError).code).toBe('timeout');
      expect(performance.now() - t).toBeGreaterThanOrEqual(190);
    });

    test('add counts atomically from concurrent clients', async () => {
      const adds = [];
      for (let i = 0; i < 20; i++) adds.push((i % 2 ? a : b).add('counter', i % 3 === 0 ? 2 : 1));
      const results = await Promise.all(adds);
      const total = [...Array(20).keys()].reduce((s, i) => s + (i % 3 === 0 ? 2 : 1), 0);
      expect(Math.max(...results)).toBe(total);
      expect(new Set(results).size).toBe(20); // every add saw a distinct value
      expect(text(await a.get('counter'))).toBe(String(total));
      expect(await a.add('counter', -total)).toBe(0);
    });

    test('compareSet swaps only on a match and reports the value held', async () => {
      expect(text(await a.compareSet('cas', null, 'first'))).toBe('first');
      expect(text(await b.compareSet('cas', null, 'second'))).toBe('first');
      expect(text(await b.compareSet('cas', 'wrong', 'second'))).toBe('first');
      expect(text(await b.compareSet('cas', 'first', 'second'))).toBe('second');
      expect(await a.compareSet('cas-absent', 'x', 'y')).toBeNull();
      expect(await a.check(['cas-absent'])).toBe(false);
      // Exactly one of many racing clients wins the election.
      const wins = await Promise.all(
        [a, b, a, b].map(async (s, i) => text(await s.compareSet('leader', null, `r${i}`))),
      );
      expect(new Set(wins).size).toBe(1);
    });

    test('delete, check and wait', async () => {
      await a.set('d', '1');
      expect(await b.check(['d', 's'])).toBe(true);
      expect(await b.delete('d')).toBe(true);
      expect(await b.delete('d')).toBe(false);
      expect(await a.check(['d', 's'])).toBe(false);
      const waiting = b.wait(['w1', 'w2'], { timeoutMs: 5_000 });
      await a.set('w1', 'x');
      await new Promise((r) => setTimeout(r, 50));
      await a.set('w2', 'y');
      await waiting;
      await expect(b.wait(['w1', 'nope'], { timeoutMs: 100 })).rejects.toMatchObject({
        code: 'timeout',
      });
    });

    test('bad arguments are typed errors', async () => {
      await expect(a.set('', 'x')).rejects.toThrow(/non-empty string key/);
      await expect(a.add('k', 1.5)).rejects.toThrow(PlexusCollectivesError);
    });
  });
}

storeSuite(
  'TCP store',
  async () => {
    const master = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
    const other = await createTcpStore({ host: '127.0.0.1', port: master.server!.port });
    return [master, other];
  },
  () => true,
);

storeSuite(
  'TCP store with a shared secret',
  async () => {
    const secret = new TextEncoder().encode('a secret given as bytes');
    const master = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true, secret });
    const other = await createTcpStore({ host: '127.0.0.1', port: master.server!.port, secret });
    return [master, other];
  },
  () => true,
);

// PLEXUS_REDIS_SERVER picks another binary (a path that does not exist makes the tests skip).
const REDIS = (
  process.env.PLEXUS_REDIS_SERVER
    ? [process.env.PLEXUS_REDIS_SERVER]
    : ['/usr/bin/redis-server', '/usr/local/bin/redis-server']
).find((p) => existsSync(p));
let redis: ChildProcess | undefined;
let redisPort = 0;
let securedRedis: ChildProcess | undefined;
let securedPort = 0;
const REQUIRED_PASSWORD = 'pässword with spaces & @:/ signs';
const ALICE_PASSWORD = 'alice-s3cret';

/** Connects once redis-server listens (it needs a moment after spawning). */
async function retryConnect<T>(make: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await make();
    } catch (error) {
      // An authentication failure means the server is up: that is the answer.
      if (Date.now() > deadline || /authentication failed/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
describe('Redis store', () => {
  beforeAll(async () => {
    if (!REDIS) {
      console.warn(
        'Redis store tests skipped: no redis-server binary (apt-get install -y redis-server)',
      );
      return;
    }
    redisPort = await freePort();
    redis = spawn(
      REDIS,
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    // One with a password (requirepass) and an ACL user limited to keys under plexus*.
    securedPort = await freePort();
    securedRedis = spawn(
      REDIS,
      [
        '--port',
        String(securedPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--requirepass',
        REQUIRED_PASSWORD,
        '--user',
        'alice',
        'on',
        `>${ALICE_PASSWORD}`,
        '~plexus*',
        '+@all',
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
    securedRedis?.kill('SIGKILL');
  });
  storeSuite(
    'Redis store',
    async () => {
      const url = `redis://127.0.0.1:${redisPort}`;
      const prefix = `test-${process.pid}:`;
      // redis-server needs a moment to listen; the first connect retries.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const a = await createRedisStore({ url, prefix, timeoutMs: 5_000 });
          const b = await createRedisStore({ url, prefix, timeoutMs: 5_000 });
          return [a, b];
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    () => REDIS !== undefined,
  );

  storeSuite(
    'Redis store with AUTH (ACL user and password in the options)',
    async () => {
      const url = `redis://127.0.0.1:${securedPort}`;
      const make = () =>
        createRedisStore({ url, username: 'alice', password: ALICE_PASSWORD, timeoutMs: 5_000 });
      return [await retryConnect(make), await make()];
    },
    () => REDIS !== undefined,
  );

  describe('Redis AUTH', () => {
    const secured = () => `redis://127.0.0.1:${securedPort}`;
    const authFailure = async (options: Parameters<typeof createRedisStore>[0]) => {
      const t0 = performance.now();
      const error = await retryConnect(() => createRedisStore(options)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(PlexusCollectivesError.isInstance(error)).toBe(true);
      expect((error as PlexusCollectivesError).code).toBe('broken');
      expect((error as Error).message).toMatch(
        /^@plexus\/collectives\/redis-store: authentication failed with redis:\/\/.*127\.0\.0\.1:\d+/,
      );
      expect(performance.now() - t0).toBeLessThan(4_000); // not the 20 s timeout
      return (error as Error).message;
    };

    it('the password in the URL (percent-encoded) or in the options works', async (ctx) => {
      if (!REDIS) return ctx.skip();
      const encoded = encodeURIComponent(REQUIRED_PASSWORD);
      const a = await retryConnect(() =>
        createRedisStore({ url: `redis://:${encoded}@127.0.0.1:${securedPort}`, prefix: 'auth:' }),
      );
      const b = await createRedisStore({
        url: secured(),
        password: REQUIRED_PASSWORD,
        prefix: 'auth:',
      });
      // The options win over a wrong password in the URL.
      const c = await createRedisStore({
        url: `redis://default:wrong@127.0.0.1:${securedPort}`,
        password: REQUIRED_PASSWORD,
        prefix: 'auth:',
      });
      await a.set('k', 'v');
      expect(text(await b.get('k'))).toBe('v');
      expect(await c.add('n', 2)).toBe(2);
      await Promise.all([a.close(), b.close(), c.close()]);
    });

    it('no password or a wrong one fails fast with the typed error, without showing the password', async (ctx) => {
      if (!REDIS) return ctx.skip();
      expect(await authFailure({ url: secured(), timeoutMs: 20_000 })).toMatch(/NOAUTH/);
      const wrong = await authFailure({ url: secured(), password: 'nope', timeoutMs: 20_000 });
      expect(wrong).toMatch(/WRONGPASS/);
      const inUrl = await authFailure({
        url: `redis://alice:not-alices@127.0.0.1:${securedPort}`,
        timeoutMs: 20_000,
      });
      expect(inUrl).not.toContain('not-alices');
      expect(inUrl).toContain('alice:***@');
    });

    it('credentials with a client of your own are an argument error', async () => {
      await expect(
        createRedisStore({ client: { sendCommand: async () => null }, password: 'x' }),
      ).rejects.toMatchObject({ code: 'invalid-argument' });
      await expect(createRedisStore({ url: 'redis://h:1', password: '' })).rejects.toMatchObject({
        code: 'invalid-argument',
      });
    });
  });

  it('a wrong URL is a typed error', async (ctx) => {
    if (!REDIS) return ctx.skip();
    const port = await freePort();
    await expect(
      createRedisStore({ url: `redis://127.0.0.1:${port}`, timeoutMs: 500 }),
    ).rejects.toMatchObject({ code: 'broken' });
  });
});
