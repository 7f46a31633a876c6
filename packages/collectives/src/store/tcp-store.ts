import type { Socket } from 'node:net';
import { type CollectivesErrorCode, PlexusCollectivesError } from '../errors.js';
import type { Secret } from '../fault-tolerance/auth.js';
import { connectOnce, retryUntil } from '../transport/connect-retry.js';
import { answerGreeting, checkSecret } from './store-auth.js';
import { startTcpStoreServer, type TcpStoreServer } from './tcp-store-server.js';
import type { StoreCallOptions, StoreV1, StoreValue } from './types.js';
import { valueBytes } from './types.js';
import {
  checkMaxMessageBytes,
  encodeMessage,
  HANDSHAKE_MESSAGE_BYTES,
  type MessageSink,
  readMessagesInto,
  type StoreMessage,
} from './wire.js';

const MODULE = 'tcp-store';

/** Options for `createTcpStore`. */
export interface TcpStoreOptions {
  /** Host of the store server (the master's address). */
  host: string;
  port: number;
  /** Also start the server here, listening on `host:port` (rank 0 does this). */
  isMaster?: boolean;
  /** Default timeout of waiting calls and of connecting (ms, default 30 000). */
  timeoutMs?: number;
  /**
   * Shared secret. The client then proves it to the server (HMAC-SHA256
   * over the server's fresh nonce) and checks the server's proof back; the
   * master's server requires it from every client. Without it, a server that
   * asks for one is refused, and so is a server without one when this is set.
   */
  secret?: Secret;
  /**
   * Largest message in bytes, either way (default 64 MiB): larger requests
   * reject before being sent, and the master's server closes connections
   * that send more. Give every rank the same value.
   */
  maxMessageBytes?: number;
}

/** A TCP store client; `server` is set when this client hosts it. */
export interface TcpStore extends StoreV1 {
  readonly server: TcpStoreServer | undefined;
}

const b64 = (v: StoreValue) => Buffer.from(valueBytes(v)).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected a non-empty string key, got ${String(key)}`,
    );
  }
}

function checkValue(name: string, value: unknown): asserts value is StoreValue {
  if (!(typeof value === 'string' || value instanceof Uint8Array)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name} to be a string or Uint8Array`,
    );
  }
}

class TcpStoreClient implements TcpStore {
  readonly specificationVersion = 'v1' as const;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    {
      resolve: (m: StoreMessage) => void;
      reject: (e: PlexusCollectivesError) => void;
      timer: NodeJS.Timeout;
    }
  >();
  private lost: PlexusCollectivesError | undefined;
  private readonly sink: MessageSink;
  /** Set while the handshake runs: where it hears of a lost connection. */
  private handshakeLost: ((why: string) => void) | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    readonly server: TcpStoreServer | undefined,
    private readonly where: string,
    private readonly maxMessageBytes: number,
  ) {
    socket.setNoDelay(true);
    const lose = (why: string) => {
      if (this.lost) return;
      this.lost = new PlexusCollectivesError(
        MODULE,
        'broken',
        `connection to the store at ${where} ${why}`,
      );
      this.handshakeLost?.(why);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.lost);
      }
      this.pending.clear();
    };
    socket.on('error', (e) => lose(`failed: ${e.message}`));
    socket.on('close', () => lose('closed'));
    this.sink = {
      maxBytes: HANDSHAKE_MESSAGE_BYTES,
      onMessage: () => undefined,
      bad: (reason) => {
        lose(`sent a bad response: ${reason}`);
        socket.destroy();
      },
    };
    readMessagesInto(socket, this.sink);
  }

  /**
   * Runs the client side of the handshake: the server's greeting, then with
   * a secret the HMAC answer and the check of the server's proof. Rejects
   * with the typed authentication error (and closes) on any mismatch.
   */
  handshake(secret: Secret | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: PlexusCollectivesError) => {
        clearTimeout(timer);
        this.handshakeLost = undefined;
        this.sink.onMessage = () => undefined;
        this.socket.destroy();
        reject(error);
      };
      const done = () => {
        clearTimeout(timer);
        this.handshakeLost = undefined;
        this.sink.maxBytes = this.maxMessageBytes;
        this.sink.onMessage = (msg) => this.dispatch(msg);
        resolve();
      };
      const timer = setTimeout(
        () =>
          fail(
            new PlexusCollectivesError(
              MODULE,
              'timeout',
              `no handshake from the store at ${this.where} within ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
      this.handshakeLost = (why) =>
        fail(
          new PlexusCollectivesError(
            MODULE,
            'broken',
            `connection to the store at ${this.where} ${why} during the handshake`,
          ),
        );
      if (this.lost) return this.handshakeLost('was lost');
      this.sink.onMessage = (greeting) => {
        try {
          const step = answerGreeting(secret, greeting, this.where);
          if (step.answer === undefined || step.checkWelcome === undefined) return done();
          const check = step.checkWelcome;
          this.sink.onMessage = (welcome) => {
            try {
              check(welcome);
              done();
            } catch (error) {
              fail(error as PlexusCollectivesError);
            }
          };
          this.socket.write(encodeMessage(step.answer));
        } catch (error) {
          fail(error as PlexusCollectivesError);
        }
      };
    });
  }

  private dispatch(msg: StoreMessage): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    p.resolve(msg);
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  private request(
    op: string,
    fields: Record<string, unknown>,
    options: StoreCallOptions | undefined,
  ): Promise<StoreMessage> {
    if (this.lost) return Promise.reject(this.lost);
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      return Promise.reject(
        new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `expected timeoutMs > 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    const id = this.nextId++;
    const frame = encodeMessage({ id, op, timeoutMs, ...fields });
    if (frame.length - 4 > this.maxMessageBytes) {
      return Promise.reject(
        new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `${op} request of ${frame.length - 4} bytes exceeds maxMessageBytes ${this.maxMessageBytes}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      // The server answers waiting calls with a timeout itself; this backstop covers a silent server.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new PlexusCollectivesError(
            MODULE,
            'timeout',
            `${op} got no answer from ${this.where} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs + 1_000);
      this.pending.set(id, {
        resolve: (m) => {
          if (m.ok === true) resolve(m);
          else {
            const code = (
              m.code === 'timeout' ? 'timeout' : 'invalid-argument'
            ) as CollectivesErrorCode;
            reject(new PlexusCollectivesError(MODULE, code, `${op}: ${String(m.message)}`));
          }
        },
        reject,
        timer,
      });
      this.socket.write(frame);
    });
  }

  async set(key: string, value: StoreValue, options?: StoreCallOptions): Promise<void> {
    checkKey(key);
    checkValue('value', value);
    await this.request('set', { key, value: b64(value) }, options);
  }

  async get(key: string, options?: StoreCallOptions): Promise<Uint8Array> {
    checkKey(key);
    const m = await this.request('get', { key }, options);
    return unb64(m.value as string);
  }

  async add(key: string, amount: number, options?: StoreCallOptions): Promise<number> {
    checkKey(key);
    if (!Number.isSafeInteger(amount)) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected an integer amount, got ${amount}`,
      );
    }
    return (await this.request('add', { key, amount }, options)).value as number;
  }

  async compareSet(
    key: string,
    expected: StoreValue | null,
    desired: StoreValue,
    options?: StoreCallOptions,
  ): Promise<Uint8Array | null> {
    checkKey(key);
    if (expected !== null) checkValue('expected', expected);
    checkValue('desired', desired);
    const m = await this.request(
      'compareSet',
      { key, expected: expected === null ? null : b64(expected), desired: b64(desired) },
      options,
    );
    return m.value === null ? null : unb64(m.value as string);
  }

  async delete(key: string, options?: StoreCallOptions): Promise<boolean> {
    checkKey(key);
    return (await this.request('delete', { key }, options)).value as boolean;
  }

  async check(keys: readonly string[], options?: StoreCallOptions): Promise<boolean> {
    for (const k of keys) checkKey(k);
    return (await this.request('check', { keys }, options)).value as boolean;
  }

  async wait(keys: readonly string[], options?: StoreCallOptions): Promise<void> {
    for (const k of keys) checkKey(k);
    await this.request('wait', { keys }, options);
  }

  async close(): Promise<void> {
    this.socket.end();
    this.socket.destroy();
    await this.server?.close();
  }
}

/**
 * A client of the built-in TCP store, like torch's `TCPStore`: with
 * `isMaster` it first starts the server on `host:port` (rank 0 does, at
 * MASTER_ADDR:MASTER_PORT). Clients retry connecting until `timeoutMs`, so
 * they may start before the master. `close()` on the master also stops the
 * server. With `secret`, client and server authenticate each other before
 * the promise resolves; a mismatch rejects at once with a `broken` error
 * whose message says `authentication failed`, and is not retried.
 */
export async function createTcpStore(options: TcpStoreOptions): Promise<TcpStore> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (
    typeof options.host !== 'string' ||
    !Number.isInteger(options.port) ||
    options.port < 0 ||
    options.port > 65535
  ) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected host and a port in [0, 65535], got ${String(options.host)}:${String(options.port)}`,
    );
  }
  const secret = checkSecret(options.secret);
  const maxMessageBytes = checkMaxMessageBytes(MODULE, options.maxMessageBytes);
  const server = options.isMaster
    ? await startTcpStoreServer({
        host: options.host,
        port: options.port,
        maxMessageBytes,
        ...(secret !== undefined ? { secret } : {}),
      })
    : undefined;
  const port = server?.port ?? options.port;
  try {
    const socket = await retryUntil(
      () => connectOnce(options.host, port),
      performance.now() + timeoutMs,
      MODULE,
      `could not reach the store at ${options.host}:${port} within ${timeoutMs} ms`,
    );
    const client = new TcpStoreClient(
      socket,
      timeoutMs,
      server,
      `${options.host}:${port}`,
      maxMessageBytes,
    );
    await client.handshake(secret);
    return client;
  } catch (error) {
    await server?.close();
    throw error;
  }
}
