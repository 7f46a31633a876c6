import { createServer, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import type { Secret } from '../fault-tolerance/auth.js';
import { checkAnswer, checkSecret, greeting, HANDSHAKE_ID } from './store-auth.js';
import {
  checkMaxMessageBytes,
  HANDSHAKE_MESSAGE_BYTES,
  type MessageSink,
  readMessagesInto,
  type StoreMessage,
  writeMessage,
} from './wire.js';

const MODULE = 'tcp-store';

/** Largest timer Node accepts; longer waits would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options for `startTcpStoreServer`. */
export interface TcpStoreServerOptions {
  /** Address to listen on (default `0.0.0.0`, as torch's TCPStore). */
  host?: string;
  /** Port (default 0: any free port; read it back from `port`). */
  port?: number;
  /**
   * Shared secret: every client must then answer an HMAC-SHA256 challenge
   * and gets the server's proof back before any request is served.
   */
  secret?: Secret;
  /** Largest accepted request in bytes (default 64 MiB); a larger one closes that connection. */
  maxMessageBytes?: number;
  /** Milliseconds a new connection has to authenticate (default 10 000). */
  handshakeTimeoutMs?: number;
  /** Told about every connection closed for a failed handshake, garbage, an oversized or replayed request. */
  onRejectedConnection?: (error: PlexusCollectivesError) => void;
}

/** A running TCP store server; see `startTcpStoreServer`. */
export interface TcpStoreServer {
  readonly host: string;
  readonly port: number;
  /** Stops listening and drops every client connection. */
  close(): Promise<void>;
}

interface Waiter {
  keys: Set<string>;
  done: () => void;
}

/**
 * The server of the built-in TCP store, like the master of torch's
 * `TCPStore`: one in-memory map, blocking `get`/`wait` answered when the key
 * is set (or with a timeout error), atomic `add` and `compareSet` (a
 * single-threaded event loop makes every request atomic). Clients speak
 * length-prefixed JSON. Every connection starts with the server's greeting;
 * with `secret`, it carries a nonce that the client must answer with an
 * HMAC before anything else, and the server proves the secret back. A
 * connection that fails that, sends garbage, an oversized message or a
 * request id that does not grow (a replay) is closed; the others go on.
 */
export async function startTcpStoreServer(
  options: TcpStoreServerOptions = {},
): Promise<TcpStoreServer> {
  const data = new Map<string, Buffer>();
  const waiters = new Map<string, Set<Waiter>>();
  const sockets = new Set<Socket>();

  const wake = (key: string) => {
    const set = waiters.get(key);
    if (!set) return;
    waiters.delete(key);
    for (const w of set) {
      w.keys.delete(key);
      if (w.keys.size === 0) w.done();
    }
  };

  const waitFor = (
    keys: string[],
    timeoutMs: number,
    socket: Socket,
    done: () => void,
    timedOut: () => void,
  ) => {
    const missing = new Set(keys.filter((k) => !data.has(k)));
    if (missing.size === 0) return done();
    let timer: NodeJS.Timeout | undefined;
    const w: Waiter = {
      keys: missing,
      done: () => {
        clearTimeout(timer);
        socket.off('close', drop);
        done();
      },
    };
    const drop = () => {
      clearTimeout(timer);
      for (const k of w.keys) waiters.get(k)?.delete(w);
    };
    timer = setTimeout(() => {
      drop();
      socket.off('close', drop);
      timedOut();
    }, timeoutMs);
    socket.once('close', drop);
    for (const k of missing) {
      let set = waiters.get(k);
      if (!set) {
        set = new Set();
        waiters.set(k, set);
      }
      set.add(w);
    }
  };

  const handle = (socket: Socket, msg: StoreMessage) => {
    const reply = (fields: Record<string, unknown>) => {
      if (!socket.destroyed) writeMessage(socket, { id: msg.id, ok: true, ...fields });
    };
    const fail = (code: string, message: string) => {
      if (!socket.destroyed) writeMessage(socket, { id: msg.id, ok: false, code, message });
    };
    const key = typeof msg.key === 'string' ? msg.key : undefined;
    const keys =
      Array.isArray(msg.keys) && msg.keys.every((k) => typeof k === 'string')
        ? (msg.keys as string[])
        : undefined;
    const timeoutMs =
      typeof msg.timeoutMs === 'number' && msg.timeoutMs > 0
        ? Math.min(msg.timeoutMs, MAX_TIMER_MS)
        : 30_000;
    switch (msg.op) {
      case 'set':
        if (key === undefined || typeof msg.value !== 'string')
          return fail('invalid-argument', 'set needs key and value');
        data.set(key, Buffer.from(msg.value, 'base64'));
        wake(key);
        return reply({});
      case 'get':
        if (key === undefined) return fail('invalid-argument', 'get needs a key');
        return waitFor(
          [key],
          timeoutMs,
          socket,
          () => reply({ value: data.get(key)?.toString('base64') ?? null }),
          () => fail('timeout', `key "${key}" was not set within ${timeoutMs} ms`),
        );
      case 'wait':
        if (keys === undefined) return fail('invalid-argument', 'wait needs keys');
        return waitFor(
          keys,
          timeoutMs,
          socket,
          () => reply({}),
          () =>
            fail(
              'timeout',
              `keys ${keys.filter((k) => !data.has(k)).join(', ')} were not set within ${timeoutMs} ms`,
            ),
        );
      case 'check':
        if (keys === undefined) return fail('invalid-argument', 'check needs keys');
        return reply({ value: keys.every((k) => data.has(k)) });
      case 'add': {
        if (
          key === undefined ||
          typeof msg.amount !== 'number' ||
          !Number.isSafeInteger(msg.amount)
        ) {
          return fail('invalid-argument', 'add needs a key and an integer amount');
        }
        const old = data.get(key);
        const current = old === undefined ? 0 : Number(old.toString('utf8'));
        if (!Number.isSafeInteger(current))
          return fail('invalid-argument', `value of "${key}" is not an integer`);
        const value = current + msg.amount;
        data.set(key, Buffer.from(String(value)));
        wake(key);
        return reply({ value });
      }
      case 'compareSet': {
        if (
          key === undefined ||
          typeof msg.desired !== 'string' ||
          !(msg.expected === null || typeof msg.expected === 'string')
        ) {
          return fail('invalid-argument', 'compareSet needs key, expected and desired');
        }
        const old = data.get(key);
        const matches =
          msg.expected === null
            ? old === undefined
            : old?.equals(Buffer.from(msg.expected, 'base64'));
        if (matches) {
          data.set(key, Buffer.from(msg.desired, 'base64'));
          wake(key);
        }
        return reply({ value: data.get(key)?.toString('base64') ?? null });
      }
      case 'delete':
        if (key === undefined) return fail('invalid-argument', 'delete needs a key');
        return reply({ value: data.delete(key) });
      default:
        return fail('invalid-argument', `unknown operation ${String(msg.op)}`);
    }
  };

  const secret = checkSecret(options.secret);
  const maxMessageBytes = checkMaxMessageBytes(MODULE, options.maxMessageBytes);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  if (!(handshakeTimeoutMs > 0 && handshakeTimeoutMs <= MAX_TIMER_MS)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected handshakeTimeoutMs in (0, ${MAX_TIMER_MS}], got ${String(handshakeTimeoutMs)}`,
    );
  }

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      clearTimeout(handshakeTimer);
    });
    const who = `${socket.remoteAddress}:${socket.remotePort}`;
    let rejected = false;
    const reject = (reason: string, refusal?: string) => {
      if (rejected) return;
      rejected = true;
      clearTimeout(handshakeTimer);
      sink.onMessage = () => undefined;
      if (refusal !== undefined && !socket.destroyed) {
        // Tell an honest client why before closing, so it fails fast with the reason.
        writeMessage(socket, { id: HANDSHAKE_ID, op: 'refuse', message: refusal });
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      } else socket.destroy();
      try {
        options.onRejectedConnection?.(
          new PlexusCollectivesError(
            MODULE,
            'broken',
            `refused the connection from ${who}: ${reason}`,
          ),
        );
      } catch {
        // A throwing observer must not take the server (and every rank's rendezvous) down.
      }
    };
    let lastId = HANDSHAKE_ID;
    const serve = (msg: StoreMessage) => {
      // Ids grow by the client's counter; an old id again is a replayed or reordered request.
      if (msg.id <= lastId) return reject(`request id ${msg.id} after ${lastId} (replayed?)`);
      lastId = msg.id;
      try {
        handle(socket, msg);
      } catch (error) {
        reject(`request failed: ${(error as Error).message}`);
      }
    };
    const sink: MessageSink = {
      maxBytes: secret === undefined ? maxMessageBytes : HANDSHAKE_MESSAGE_BYTES,
      onMessage: serve,
      bad: (reason) => reject(reason),
    };
    const hello = greeting(secret);
    let handshakeTimer: NodeJS.Timeout | undefined;
    if (hello.nonce !== undefined) {
      const nonce = hello.nonce;
      handshakeTimer = setTimeout(
        () => reject(`no authentication within ${handshakeTimeoutMs} ms`),
        handshakeTimeoutMs,
      );
      sink.onMessage = (msg) => {
        clearTimeout(handshakeTimer);
        const result = checkAnswer(secret as Secret, nonce, msg);
        if ('refuse' in result) return reject(result.refuse, result.refuse);
        writeMessage(socket, result.welcome);
        sink.maxBytes = maxMessageBytes;
        sink.onMessage = serve;
      };
    }
    readMessagesInto(socket, sink);
    writeMessage(socket, hello.msg);
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `cannot listen on ${host}:${options.port ?? 0}: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
