import { createServer, type Server } from 'node:net';
import { ringSchedule } from '../../algorithms/ring-schedule.js';
import { switchedOff } from '../../env-switch.js';
import { PlexusCollectivesError } from '../../errors.js';
import { loadNativeAddon, type NativeAddon, type NativeTcpConfig } from '../../native/addon.js';
import { bytesOf, dtypeOf, type ElementArray } from '../../reduction/dtype.js';
import { NATIVE_DTYPE_CODE } from '../../reduction/native-reduce.js';
import type { StoreV1 } from '../../store/types.js';
import type { ReduceOp } from '../../types.js';
import { retryUntil } from '../connect-retry.js';
import type {
  PointToPointCallOptions,
  PointToPointV1,
  RingAllReduceOffloadV1,
} from '../point-to-point.js';
import { checkInt } from '../thread-transport.js';
import { connectInPlace, TCP_MODULE } from './connection.js';
import { acceptHandshake, connectHandshake } from './handshake.js';
import { NativeTcpPeer } from './native-peer.js';
import { type PeerLink, TcpPeer } from './peer.js';

/** Options for `createTcpTransport`. */
export interface TcpTransportOptions {
  rank: number;
  worldSize: number;
  /** Where ranks publish their listening addresses (rendezvous). */
  store: StoreV1;
  /** Prefix of this transport's store keys (default `plexus/tcp`); one per group. */
  prefix?: string;
  /**
   * Address to listen on and to advertise. Default: the local address of the
   * store connection (the interface that reaches the master), else 127.0.0.1.
   */
  host?: string;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /**
   * TCP connections per peer pair; large messages are striped over all.
   * Default: 2, to fill long fat links as PCCL does, but 1 where this rank
   * listens on a loopback address (every peer is then on this host, there
   * is no link to fill, and each extra socket only holds more data in
   * flight: one connection made the 4-rank 64 MiB all-reduce 12% faster
   * on the 2-core build machine). Every rank must end up with the same
   * number; a rank that differs is refused with an error that says so.
   */
  connectionsPerPeer?: number;
  /** Messages of at least this many bytes are striped (default 256 KiB). */
  stripeMinBytes?: number;
  /** Largest payload this rank puts in one frame (default 1 MiB, at most `maxFrameBytes`). */
  frameBytes?: number;
  /** Largest frame payload accepted; larger frames are rejected (default 16 MiB). */
  maxFrameBytes?: number;
  /** Largest message accepted from a peer (default 2 GiB). */
  maxMessageBytes?: number;
  /**
   * Shared secret: every connection then authenticates both ways with an
   * HMAC-SHA256 challenge-response; a peer without it is refused.
   */
  secret?: string | Uint8Array;
  /**
   * CRC32 on every data frame (default true). With false this rank sends
   * data frames without one and accepts frames with or without (checking
   * those that carry one): for links where TCP's own checksum is trusted, at
   * about half the CPU per byte. Handshake frames always carry one.
   */
  checksum?: boolean;
  /**
   * Drive the connections from the native addon's I/O threads once they are
   * authenticated (default true where the addon is built; the environment
   * variable `PLEXUS_TCP_NATIVE=0` turns it off). Same wire format either way.
   */
  nativeIo?: boolean;
  /**
   * Where the native I/O threads drive the ring neighbours, run the ring
   * all-reduce in them too (native/ring_op.h: each chunk reduced and passed
   * on where it was received; default true, `PLEXUS_TCP_NATIVE_RING=0`
   * turns it off). Same messages on the wire as the JavaScript ring.
   */
  nativeRing?: boolean;
  /** Default per-call timeout and the timeout of the rendezvous (ms, default 30 000). */
  timeoutMs?: number;
  /** Told about every refused incoming connection (garbage, wrong secret, duplicates). */
  onRejectedConnection?: (error: PlexusCollectivesError) => void;
}

/** A `PointToPointV1` over TCP, with its listening address. */
export interface TcpTransport extends PointToPointV1 {
  /** Where this rank listens (undefined for a world of one). */
  readonly address: { host: string; port: number } | undefined;
  /** Whether the native data path drives the connections, and if not, why. */
  readonly nativeIo: { enabled: boolean; why: string };
}

/** Environment variable that turns the native TCP data path off (`0`). */
export const TCP_NATIVE_ENV = 'PLEXUS_TCP_NATIVE';

/** Environment variable that keeps the ring all-reduce in JavaScript over the native data path (`0`). */
export const TCP_NATIVE_RING_ENV = 'PLEXUS_TCP_NATIVE_RING';

function option(name: string, value: number | undefined, fallback: number, min: number): number {
  return checkInt(TCP_MODULE, name, value ?? fallback, min, Number.MAX_SAFE_INTEGER);
}

class Tcp implements TcpTransport, RingAllReduceOffloadV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  address: { host: string; port: number } | undefined;
  peers: (PeerLink | undefined)[];
  nativeIo = { enabled: false, why: 'a world of one has no connections' };
  server: Server | undefined;
  private closed = false;
  readonly timeoutMs: number;
  nativeRing = false;

  constructor(rank: number, worldSize: number, peers: (PeerLink | undefined)[], timeoutMs: number) {
    this.rank = rank;
    this.worldSize = worldSize;
    this.peers = peers;
    this.timeoutMs = timeoutMs;
  }

  private peer(name: string, p: number): PeerLink {
    checkInt(TCP_MODULE, name, p, 0, this.worldSize - 1);
    if (p === this.rank) {
      throw new PlexusCollectivesError(
        TCP_MODULE,
        'invalid-argument',
        `${name} must not be this rank`,
      );
    }
    if (this.closed) throw new PlexusCollectivesError(TCP_MODULE, 'broken', 'transport is closed');
    return this.peers[p]!;
  }

  private timeout(options: PointToPointCallOptions | undefined): number {
    const t = options?.timeoutMs ?? this.timeoutMs;
    if (!(typeof t === 'number' && t >= 0)) {
      throw new PlexusCollectivesError(
        TCP_MODULE,
        'invalid-argument',
        `expected timeoutMs >= 0, got ${String(t)}`,
      );
    }
    // 0 (a deadline already reached) still lets a message that has arrived be taken.
    return Math.max(t, 1);
  }

  send(dst: number, bytes: Uint8Array, options?: PointToPointCallOptions): Promise<void> {
    try {
      return this.peer('dst', dst).send(bytes, this.timeout(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  recv(src: number, into?: Uint8Array, options?: PointToPointCallOptions): Promise<Uint8Array> {
    try {
      return this.peer('src', src).recv(into, this.timeout(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  offloadRingAllReduce(
    buf: ElementArray,
    op: ReduceOp,
    options: { chunkBytes: number; timeoutMs?: number },
  ): Promise<void> | undefined {
    const n = this.worldSize;
    if (!this.nativeRing || this.closed || n < 2) return undefined;
    const left = this.peers[(this.rank - 1 + n) % n];
    const right = this.peers[(this.rank + 1) % n];
    if (!(left instanceof NativeTcpPeer) || !(right instanceof NativeTcpPeer)) return undefined;
    const dtype = dtypeOf(buf);
    if (dtype === undefined) return undefined;
    const chunkElems = Math.max(1, Math.floor(options.chunkBytes / buf.BYTES_PER_ELEMENT));
    const plan = ringSchedule(this.rank, n, buf.length, buf.BYTES_PER_ELEMENT, chunkElems, op);
    if (plan === undefined) return undefined;
    // A caller's timeout bounds the whole call; the default bounds a stall.
    const timeout = {
      ms: this.timeout({ timeoutMs: options.timeoutMs }),
      whole: options.timeoutMs !== undefined,
    };
    return NativeTcpPeer.ringAllReduce(
      left,
      right,
      plan,
      NATIVE_DTYPE_CODE[dtype],
      bytesOf(buf),
      timeout,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const reason = new PlexusCollectivesError(
      TCP_MODULE,
      'broken',
      `rank ${this.rank} closed the transport`,
    );
    // Graceful: what was written still reaches the peer before the FIN.
    for (const p of this.peers) p?.close(reason);
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Creates the TCP transport of `rank`: listens, publishes its address in
 * the store under `<prefix>/addr/<rank>`, opens `connectionsPerPeer`
 * sockets to every other rank (to receive on) and accepts as many from each
 * (to send on), each through the handshake of `handshake.ts`. Resolves once every connection is
 * up; rejects with a typed error after `timeoutMs`.
 *
 * Frames carry magic, version, a per-connection sequence number, length and
 * CRC32; a peer that sends garbage, a truncated, replayed or oversized frame,
 * or that disconnects, fails only the operations with that peer (typed
 * `broken` errors); a refused stranger only reaches `onRejectedConnection`.
 */
export async function createTcpTransport(options: TcpTransportOptions): Promise<TcpTransport> {
  const worldSize = checkInt(TCP_MODULE, 'worldSize', options.worldSize, 1, 65536);
  const rank = checkInt(TCP_MODULE, 'rank', options.rank, 0, worldSize - 1);
  if (options.store?.specificationVersion !== 'v1') {
    throw new PlexusCollectivesError(TCP_MODULE, 'invalid-argument', 'expected a StoreV1 store');
  }
  const store = options.store;
  const host = options.host ?? store.localAddress ?? '127.0.0.1';
  const k = option('connectionsPerPeer', options.connectionsPerPeer, isLoopback(host) ? 1 : 2, 1);
  if (k > 64) {
    throw new PlexusCollectivesError(
      TCP_MODULE,
      'invalid-argument',
      `expected connectionsPerPeer in [1, 64], got ${k}`,
    );
  }
  const maxFrameBytes = option('maxFrameBytes', options.maxFrameBytes, 16 << 20, 1024);
  const frameBytes = Math.min(option('frameBytes', options.frameBytes, 1 << 20, 1), maxFrameBytes);
  const policy = {
    stripeMinBytes: option('stripeMinBytes', options.stripeMinBytes, 256 << 10, 0),
    frameBytes,
    maxMessageBytes: option('maxMessageBytes', options.maxMessageBytes, 2 ** 31, 0),
  };
  const timeoutMs = option('timeoutMs', options.timeoutMs, 30_000, 1);
  const secret =
    options.secret === undefined
      ? undefined
      : typeof options.secret === 'string'
        ? Buffer.from(options.secret)
        : options.secret;
  const prefix = options.prefix ?? 'plexus/tcp';
  const checksum = options.checksum ?? true;
  const peers = Array.from({ length: worldSize }, (_, p) =>
    p === rank ? undefined : new TcpPeer(p, rank, k, policy),
  );
  const t = new Tcp(rank, worldSize, peers, timeoutMs);
  if (worldSize === 1) return t;
  const native = nativeIoAddon(options.nativeIo);
  t.nativeIo = { enabled: false, why: native.why };
  t.nativeRing = options.nativeRing !== false && !switchedOff(TCP_NATIVE_RING_ENV);

  const deadline = performance.now() + timeoutMs;
  const rejected = (error: unknown) => {
    if (PlexusCollectivesError.isInstance(error)) options.onRejectedConnection?.(error);
  };
  const server = createServer((socket) => {
    socket.on('error', () => undefined); // reported through the connection's close
    const label = `incoming connection from ${socket.remoteAddress}:${socket.remotePort}`;
    acceptHandshake(
      socket,
      label,
      rank,
      secret,
      timeoutMs,
      maxFrameBytes,
      (hello, conn) => {
        if (hello.worldSize !== worldSize) {
          return `world size ${hello.worldSize} differs from ${worldSize}`;
        }
        if (hello.rank === rank || hello.rank >= worldSize) {
          return `rank ${hello.rank} is not another rank of this group of ${worldSize}`;
        }
        const peer = peers[hello.rank]!;
        if (hello.connIndex >= k || peer.sendConns[hello.connIndex] !== undefined || peer.failure) {
          return `connection ${hello.connIndex} of rank ${hello.rank} is taken or out of range`;
        }
        peer.attach('send', hello.connIndex, conn);
        return peer.sendOnlyHandlers;
      },
      checksum,
    ).catch(rejected);
  });
  t.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new PlexusCollectivesError(
          TCP_MODULE,
          'invalid-argument',
          `cannot listen on ${host}:${options.port ?? 0}: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  t.address = { host, port };
  try {
    await store.set(`${prefix}/addr/${rank}`, JSON.stringify({ host, port, connections: k }));
    const connecting: Promise<void>[] = [];
    // Every rank opens k connections to every other rank and receives on
    // them (in place, see connectInPlace); it sends on the ones it accepts.
    for (let q = 0; q < worldSize; q++) {
      if (q === rank) continue;
      connecting.push(
        (async () => {
          const left = Math.max(1, deadline - performance.now());
          const raw = await store.get(`${prefix}/addr/${q}`, { timeoutMs: left });
          const addr = JSON.parse(new TextDecoder().decode(raw)) as {
            host: string;
            port: number;
            connections?: number;
          };
          if (addr.connections !== undefined && addr.connections !== k) {
            throw new PlexusCollectivesError(
              TCP_MODULE,
              'invalid-argument',
              `rank ${q} (${addr.host}) opens ${addr.connections} connections per peer and rank ${rank} (${host}) ${k}: give every rank the same connectionsPerPeer (the default is 1 on a loopback address, else 2)`,
            );
          }
          await Promise.all(
            Array.from({ length: k }, async (_, i) => {
              const { socket, bind } = await retryUntil(
                () => connectInPlace(addr.host, addr.port),
                deadline,
                TCP_MODULE,
                `could not connect to ${addr.host}:${addr.port}`,
                50,
              );
              const conn = await connectHandshake(
                socket,
                `connection ${i} to rank ${q} (${addr.host}:${addr.port})`,
                { rank, worldSize, connIndex: i },
                q,
                secret,
                Math.max(1, deadline - performance.now()),
                peers[q]!.handlers,
                maxFrameBytes,
                bind,
                checksum,
                // Nothing after the welcome may be read here when the native
                // data path is to take the connection over.
                native.addon === undefined ? undefined : (c) => c.socket.pause(),
              );
              peers[q]!.attach('recv', i, conn);
            }),
          );
        })(),
      );
    }
    await Promise.all(connecting);
    const waiting = peers.filter((p): p is TcpPeer => p !== undefined && !p.ready);
    if (waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(waiting.map((p) => p.whenReady())),
        new Promise((r) => {
          timer = setTimeout(r, Math.max(1, deadline - performance.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    const missing = peers.filter((p) => p !== undefined && !p.ready).map((p) => p!.rank);
    if (missing.length > 0) {
      throw new PlexusCollectivesError(
        TCP_MODULE,
        'timeout',
        `rank ${rank}: ranks ${missing.join(', ')} did not connect within ${timeoutMs} ms`,
      );
    }
    const failed = peers.find((p) => p?.failure);
    if (failed) throw failed.failure;
    if (native.addon !== undefined) {
      handOver(t, peers, native.addon, { ...policy, maxFrameBytes, checksum: checksum ? 1 : 0 });
    }
  } catch (error) {
    await t.close();
    throw PlexusCollectivesError.isInstance(error)
      ? error
      : new PlexusCollectivesError(TCP_MODULE, 'broken', `rank ${rank}: rendezvous failed`, {
          cause: error,
        });
  }
  return t;
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || /^::ffff:127\./.test(h);
}

function nativeIoAddon(wanted: boolean | undefined): {
  addon: NativeAddon | undefined;
  why: string;
} {
  if (wanted === false) return { addon: undefined, why: 'turned off (nativeIo: false)' };
  if (switchedOff(TCP_NATIVE_ENV)) {
    return { addon: undefined, why: `turned off (${TCP_NATIVE_ENV}=0)` };
  }
  const { native, why } = loadNativeAddon();
  if (native === undefined || typeof native.tcpOpen !== 'function') {
    return { addon: undefined, why: `no native addon: ${why}` };
  }
  return { addon: native, why };
}

/**
 * Gives every peer's authenticated connections to the native engine. Reading
 * stopped right after each handshake, and nothing was written since, so the
 * engine starts exactly at the next frame of every connection. A peer that
 * cannot be handed over stays on the JavaScript path (its reading resumes).
 */
function handOver(
  t: Tcp,
  peers: (TcpPeer | undefined)[],
  addon: NativeAddon,
  config: NativeTcpConfig,
): void {
  const reasons: string[] = [];
  t.peers = peers.map((p) => {
    if (p === undefined) return undefined;
    const adopted = NativeTcpPeer.adopt(p, addon, config);
    if (typeof adopted !== 'string') return adopted;
    reasons.push(`rank ${p.rank}: ${adopted}`);
    for (const c of p.conns) c?.socket.resume();
    return p;
  });
  t.nativeIo =
    reasons.length === 0
      ? { enabled: true, why: 'native I/O threads drive every connection' }
      : { enabled: false, why: `kept on the JavaScript path: ${reasons.join('; ')}` };
}
