import { PlexusCollectivesError } from '../errors.js';
import type { StoreCallOptions, StoreV1, StoreValue } from './types.js';
import { valueBytes } from './types.js';

const MODULE = 'redis-store';

/** The part of a node-redis client the store uses (`@redis/client` >= 5, or `redis`). */
export interface RedisCommandClient {
  sendCommand(args: (string | Buffer)[]): Promise<unknown>;
}

/** Options for `createRedisStore`: a URL to connect to, or a client of your own. */
export interface RedisStoreOptions {
  /**
   * `redis://[[username]:password@]host:port/db` (or `rediss://` for TLS);
   * the store connects with `@redis/client` and closes it on `close()`.
   */
  url?: string;
  /**
   * Redis AUTH password (for servers started with `--requirepass`, or an ACL
   * user's). Overrides one in `url`. Only with `url`.
   */
  password?: string;
  /** Redis ACL user name (default `default`). Overrides one in `url`. Only with `url`. */
  username?: string;
  /**
   * An already connected client, with byte replies (`withTypeMapping` of blob
   * strings to `Buffer`, or replies as strings); the caller keeps ownership.
   */
  client?: RedisCommandClient;
  /** Prefix of every key (default `plexus:`), so one Redis can host many groups. */
  prefix?: string;
  /** Default timeout of waiting calls (ms, default 30 000). */
  timeoutMs?: number;
}

/**
 * Compare-and-set in one atomic Lua script. ARGV[1] = '1' means "expect the
 * key to be absent"; a `false` return becomes a nil reply (key absent).
 */
const COMPARE_SET = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur == false then redis.call('SET', KEYS[1], ARGV[3]) return ARGV[3] end
  return cur
end
if cur == ARGV[2] then redis.call('SET', KEYS[1], ARGV[3]) return ARGV[3] end
return cur`;

function toBytes(reply: unknown): Uint8Array | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return new TextEncoder().encode(reply);
  if (reply instanceof Uint8Array) return new Uint8Array(reply);
  throw new PlexusCollectivesError(
    MODULE,
    'broken',
    `unexpected reply from Redis: ${String(reply)}`,
  );
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected a non-empty string key, got ${String(key)}`,
    );
  }
}

/**
 * `StoreV1` on Redis, for users who already run one. Plain commands keep
 * it compatible with any Redis: `SET`/`GET`, `INCRBY` for `add` (decimal
 * strings, like the TCP store), `DEL`, `EXISTS`, and a Lua script for an
 * atomic `compareSet`. Blocking `get`/`wait` poll with a backoff of 2 to
 * 50 ms, since keyspace notifications are often disabled on managed Redis.
 */
class RedisStore implements StoreV1 {
  readonly specificationVersion = 'v1' as const;
  readonly localAddress = undefined;

  constructor(
    private readonly client: RedisCommandClient,
    private readonly prefix: string,
    private readonly timeoutMs: number,
    private readonly owned: { close(): Promise<unknown> } | undefined,
  ) {}

  private k(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  private async cmd(args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await this.client.sendCommand(args);
    } catch (error) {
      throw new PlexusCollectivesError(
        MODULE,
        'broken',
        `${String(args[0])} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async poll<R>(
    what: string,
    options: StoreCallOptions | undefined,
    attempt: () => Promise<R | undefined>,
  ): Promise<R> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const deadline = performance.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      const r = await attempt();
      if (r !== undefined) return r;
      if (performance.now() >= deadline) {
        throw new PlexusCollectivesError(MODULE, 'timeout', `${what} within ${timeoutMs} ms`);
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(delay, Math.max(1, deadline - performance.now()))),
      );
      delay = Math.min(50, delay * 2);
    }
  }

  async set(key: string, value: StoreValue): Promise<void> {
    await this.cmd(['SET', this.k(key), Buffer.from(valueBytes(value))]);
  }

  get(key: string, options?: StoreCallOptions): Promise<Uint8Array> {
    const k = this.k(key);
    return this.poll(`key "${key}" was not set`, options, async () => {
      return toBytes(await this.cmd(['GET', k])) ?? undefined;
    });
  }

  async add(key: string, amount: number): Promise<number> {
    if (!Number.isSafeInteger(amount)) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected an integer amount, got ${amount}`,
      );
    }
    return Number(await this.cmd(['INCRBY', this.k(key), String(amount)]));
  }

  async compareSet(
    key: string,
    expected: StoreValue | null,
    desired: StoreValue,
  ): Promise<Uint8Array | null> {
    const reply = await this.cmd([
      'EVAL',
      COMPARE_SET,
      '1',
      this.k(key),
      expected === null ? '1' : '0',
      expected === null ? '' : Buffer.from(valueBytes(expected)),
      Buffer.from(valueBytes(desired)),
    ]);
    return toBytes(reply);
  }

  async delete(key: string): Promise<boolean> {
    return Number(await this.cmd(['DEL', this.k(key)])) > 0;
  }

  async check(keys: readonly string[]): Promise<boolean> {
    const unique = [...new Set(keys)].map((k) => this.k(k));
    if (unique.length === 0) return true;
    return Number(await this.cmd(['EXISTS', ...unique])) === unique.length;
  }

  wait(keys: readonly string[], options?: StoreCallOptions): Promise<void> {
    for (const k of keys) checkKey(k);
    return this.poll(`keys ${keys.join(', ')} were not all set`, options, async () =>
      (await this.check(keys)) ? true : undefined,
    ).then(() => undefined);
  }

  async close(): Promise<void> {
    await this.owned?.close();
  }
}

/** `url` without its password, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** `url` with the credentials of the options in place of its own. */
function withCredentials(options: RedisStoreOptions, url: string): string {
  if (options.password === undefined && options.username === undefined) return url;
  for (const [name, v] of [
    ['password', options.password],
    ['username', options.username],
  ] as const) {
    if (v !== undefined && (typeof v !== 'string' || v === '')) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected options.${name} to be a non-empty string`,
      );
    }
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch (error) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected options.url to be a redis:// URL, got ${redact(url)}`,
      { cause: error },
    );
  }
  // The URL setters percent-encode; @redis/client decodes them again.
  if (options.username !== undefined) u.username = options.username;
  if (options.password !== undefined) u.password = options.password;
  return u.toString();
}

/** Redis's answers to a missing or wrong password (or ACL user). */
const AUTH_REPLY = /\b(NOAUTH|WRONGPASS)\b|invalid password|Authentication required/i;

/**
 * Creates a Redis-backed `StoreV1`. With `url`, connects through
 * `@redis/client` (an optional peer dependency: `npm install @redis/client`),
 * authenticating with the URL's or the options' credentials; a missing or
 * wrong password rejects at once with a `broken` error whose message says
 * `authentication failed`. With `client`, uses yours.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<StoreV1> {
  const prefix = options.prefix ?? 'plexus:';
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.client) {
    if (options.password !== undefined || options.username !== undefined) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        'options.password and options.username go with options.url; authenticate your own client yourself',
      );
    }
    return new RedisStore(options.client, prefix, timeoutMs, undefined);
  }
  if (typeof options.url !== 'string') {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'expected options.url (redis://host:port) or options.client',
    );
  }
  const url = withCredentials(options, options.url);
  const shown = redact(options.url);
  let mod: typeof import('@redis/client');
  try {
    mod = await import('@redis/client');
  } catch (error) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'createRedisStore({ url }) needs the optional peer dependency @redis/client (npm install @redis/client)',
      { cause: error },
    );
  }
  let connected = false;
  const client = mod
    .createClient({
      url,
      socket: {
        connectTimeout: timeoutMs,
        // Fail the first connect at once; reconnect with backoff once it has worked.
        reconnectStrategy: (retries: number, cause: Error) =>
          connected ? Math.min(50 * 2 ** retries, 2_000) : cause,
      },
    })
    .withTypeMapping({ [mod.RESP_TYPES.BLOB_STRING]: Buffer });
  client.on('error', () => undefined); // surfaced as rejected commands instead
  try {
    await client.connect();
    // Some servers accept the connection and refuse only the first command.
    await client.sendCommand(['PING']);
    connected = true;
  } catch (error) {
    client.destroy();
    const message = (error as Error).message;
    if (AUTH_REPLY.test(message)) {
      throw new PlexusCollectivesError(
        MODULE,
        'broken',
        `authentication failed with ${shown}: ${message.slice(0, 200)} (give the password in the URL or as options.password)`,
        { cause: error },
      );
    }
    throw new PlexusCollectivesError(MODULE, 'broken', `cannot connect to ${shown}: ${message}`, {
      cause: error,
    });
  }
  return new RedisStore(client as unknown as RedisCommandClient, prefix, timeoutMs, {
    close: () => client.close(),
  });
}
