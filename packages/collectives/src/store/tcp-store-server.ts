import { createServer, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import { readMessages, type StoreMessage, writeMessage } from './wire.js';

const MODULE = 'tcp-store';

/** Options for `startTcpStoreServer`. */
export interface TcpStoreServerOptions {
  /** Address to listen on (default `0.0.0.0`, as torch's TCPStore). */
  host?: string;
  /** Port (default 0: any free port; read it back from `port`). */
  port?: number;
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
 * length-prefixed JSON; a client that sends garbage is disconnected.
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
      typeof msg.timeoutMs === 'number' && msg.timeoutMs > 0 ? msg.timeoutMs : 30_000;
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

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    readMessages(
      socket,
      (msg) => handle(socket, msg),
      () => socket.destroy(),
    );
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
