import type { Topology } from '../algorithms/topology.js';
import { PlexusCollectivesError } from '../errors.js';
import type { PointToPointCallOptions, PointToPointV1 } from './point-to-point.js';

const MODULE = 'transport/in-memory';

/**
 * Simulated cost of one link: a message occupies the link for
 * `perMessageMs + bytes / bytesPerMs` and arrives `latencyMs` after leaving it.
 */
export interface LinkModel {
  /** Fixed delay added to every message, in milliseconds (default 0). */
  latencyMs?: number;
  /** Time each message occupies the link regardless of size (per-message overhead; default 0). */
  perMessageMs?: number;
  /** Link bandwidth in bytes per millisecond; unset means infinite. */
  bytesPerMs?: number;
}

/** Options of `createInMemoryNetwork`. */
export interface InMemoryNetworkOptions {
  /** Which host each rank is on (default: all on host 0). */
  topology?: Topology;
  /** Cost of links between ranks on one host (default: free). */
  intraHost?: LinkModel;
  /**
   * Cost of the link between two hosts. All traffic from host A to host B
   * shares one simulated link (one NIC per host pair and direction), so
   * concurrent inter-host messages queue behind each other.
   */
  interHost?: LinkModel;
  /**
   * `wall` (default): link delays are real timers, so `send`/`recv` take
   * real time. `virtual`: messages are delivered at once and each rank keeps
   * a simulated clock instead (a message leaves when its rank's clock and
   * the link allow, arrives after the link's time and latency, and a
   * receiver's clock jumps to the arrival); `virtualTimeMs()` reads the
   * result. Deterministic and free of timer granularity, it models
   * communication only: compute takes no simulated time.
   */
  clock?: 'wall' | 'virtual';
}

/** Byte and message counters of one simulated network. */
export interface InMemoryNetworkStats {
  /** `bytes[src][dst]`: payload bytes sent from rank `src` to rank `dst`. */
  readonly bytes: number[][];
  /** `messages[src][dst]`: messages sent from `src` to `dst`. */
  readonly messages: number[][];
  /** Payload bytes that crossed between hosts (sum over all host pairs). */
  interHostBytes: number;
  /** Messages that crossed between hosts. */
  interHostMessages: number;
  /** Payload bytes between ranks on the same host. */
  intraHostBytes: number;
}

/** A simulated network of `worldSize` ranks in one process. */
export interface InMemoryNetwork {
  /** One endpoint per rank; `endpoints[r].rank === r`. */
  readonly endpoints: readonly PointToPointV1[];
  readonly worldSize: number;
  readonly topology: Topology;
  /** Live counters (reset with `resetStats`). */
  readonly stats: InMemoryNetworkStats;
  /** Zeroes every counter. */
  resetStats(): void;
  /** With `clock: 'virtual'`: the latest simulated clock over all ranks, in ms. */
  virtualTimeMs(): number;
}

interface Waiter {
  resolve(bytes: Uint8Array): void;
  reject(error: unknown): void;
}

interface Queue {
  messages: Uint8Array[];
  waiters: Waiter[];
}

function emptyStats(n: number): InMemoryNetworkStats {
  const grid = () => Array.from({ length: n }, () => new Array<number>(n).fill(0));
  return {
    bytes: grid(),
    messages: grid(),
    interHostBytes: 0,
    interHostMessages: 0,
    intraHostBytes: 0,
  };
}

function checkModel(name: string, m: LinkModel | undefined): void {
  if (m === undefined) return;
  if (m.latencyMs !== undefined && !(m.latencyMs >= 0)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name}.latencyMs >= 0, got ${String(m.latencyMs)}`,
    );
  }
  if (m.perMessageMs !== undefined && !(m.perMessageMs >= 0)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name}.perMessageMs >= 0, got ${String(m.perMessageMs)}`,
    );
  }
  if (m.bytesPerMs !== undefined && !(m.bytesPerMs > 0)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name}.bytesPerMs > 0, got ${String(m.bytesPerMs)}`,
    );
  }
}

/**
 * Creates `worldSize` `PointToPointV1` endpoints that talk through async
 * queues inside this process: the transport the algorithm tests and the
 * topology benchmark run on. Messages are copied at `send`, so the sender
 * may reuse its buffer at once. With link models set, delivery is delayed
 * by latency plus serialisation time, each link carrying one message at a
 * time, and `send` resolves when the message has left the link.
 */
export function createInMemoryNetwork(
  worldSize: number,
  options: InMemoryNetworkOptions = {},
): InMemoryNetwork {
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected worldSize to be a positive integer, got ${String(worldSize)}`,
    );
  }
  const topology = options.topology ?? { hostOf: new Array<number>(worldSize).fill(0) };
  if (topology.hostOf.length !== worldSize) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `topology describes ${topology.hostOf.length} ranks, expected ${worldSize}`,
    );
  }
  checkModel('intraHost', options.intraHost);
  checkModel('interHost', options.interHost);
  const queues: Queue[] = Array.from({ length: worldSize * worldSize }, () => ({
    messages: [],
    waiters: [],
  }));
  // Time (performance.now) at which each simulated link is next free.
  const linkFreeAt = new Map<string, number>();
  const virtual = options.clock === 'virtual';
  if (options.clock !== undefined && options.clock !== 'wall' && !virtual) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected clock to be 'wall' or 'virtual', got ${String(options.clock)}`,
    );
  }
  // Virtual clock: busy intervals per link, and each message's arrival time.
  const busy = new Map<string, [number, number][]>();
  const arrival = new WeakMap<Uint8Array, number>();
  const clocks = new Array<number>(worldSize).fill(0);
  const net = {
    worldSize,
    topology,
    stats: emptyStats(worldSize),
    endpoints: [] as PointToPointV1[],
    resetStats() {
      net.stats = emptyStats(worldSize);
    },
    virtualTimeMs: () => Math.max(...clocks),
  };

  /** Earliest start >= t of a `dur`-long slot on link `key` (messages may be issued out of time order). */
  const schedule = (key: string, t: number, dur: number): number => {
    const list = busy.get(key) ?? [];
    busy.set(key, list);
    let start = t;
    let i = 0;
    for (; i < list.length; i++) {
      const [s, e] = list[i]!;
      if (e <= start) continue;
      if (s >= start + dur) break;
      start = Math.max(start, e);
    }
    list.splice(i, 0, [start, start + dur]);
    return start;
  };

  const deliver = (src: number, dst: number, msg: Uint8Array) => {
    const q = queues[src * worldSize + dst]!;
    const w = q.waiters.shift();
    if (w) w.resolve(msg);
    else q.messages.push(msg);
  };

  const linkOf = (src: number, dst: number): { key: string; model?: LinkModel; inter: boolean } => {
    const hs = topology.hostOf[src]!;
    const hd = topology.hostOf[dst]!;
    if (hs !== hd) return { key: `h${hs}>${hd}`, model: options.interHost, inter: true };
    return { key: `r${src}>${dst}`, model: options.intraHost, inter: false };
  };

  class Endpoint implements PointToPointV1 {
    readonly specificationVersion = 'v1' as const;
    readonly worldSize = worldSize;
    closed = false;
    constructor(readonly rank: number) {}

    private checkPeer(name: string, peer: number): void {
      if (this.closed) {
        throw new PlexusCollectivesError(MODULE, 'broken', `rank ${this.rank} is closed`);
      }
      if (!Number.isInteger(peer) || peer < 0 || peer >= worldSize || peer === this.rank) {
        throw new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `expected ${name} to be another rank in [0, ${worldSize - 1}], got ${String(peer)} on rank ${this.rank}`,
        );
      }
    }

    async send(dst: number, bytes: Uint8Array, _options?: PointToPointCallOptions): Promise<void> {
      this.checkPeer('dst', dst);
      const msg = bytes.slice();
      const link = linkOf(this.rank, dst);
      const s = net.stats;
      s.bytes[this.rank]![dst]! += msg.byteLength;
      s.messages[this.rank]![dst]! += 1;
      if (link.inter) {
        s.interHostBytes += msg.byteLength;
        s.interHostMessages += 1;
      } else {
        s.intraHostBytes += msg.byteLength;
      }
      const model = link.model;
      const active =
        model !== undefined &&
        (model.latencyMs !== undefined ||
          model.bytesPerMs !== undefined ||
          model.perMessageMs !== undefined);
      if (virtual) {
        const t0 = clocks[this.rank]!;
        let done = t0;
        let arrive = t0;
        if (active) {
          const dur =
            (model.perMessageMs ?? 0) + (model.bytesPerMs ? msg.byteLength / model.bytesPerMs : 0);
          done = schedule(link.key, t0, dur) + dur;
          arrive = done + (model.latencyMs ?? 0);
        }
        arrival.set(msg, arrive);
        deliver(this.rank, dst, msg);
        // Sends issued together (before any await) all leave at t0.
        await Promise.resolve();
        clocks[this.rank] = Math.max(clocks[this.rank]!, done);
        return;
      }
      if (!active) {
        deliver(this.rank, dst, msg);
        return;
      }
      const now = performance.now();
      const start = Math.max(now, linkFreeAt.get(link.key) ?? 0);
      const done =
        start +
        (model.perMessageMs ?? 0) +
        (model.bytesPerMs ? msg.byteLength / model.bytesPerMs : 0);
      linkFreeAt.set(link.key, done);
      const arrive = done + (model.latencyMs ?? 0);
      const src = this.rank;
      setTimeout(() => deliver(src, dst, msg), Math.max(0, arrive - now));
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, done - now)));
    }

    recv(src: number, into?: Uint8Array, options?: PointToPointCallOptions): Promise<Uint8Array> {
      try {
        this.checkPeer('src', src);
      } catch (error) {
        return Promise.reject(error);
      }
      const q = queues[src * worldSize + this.rank]!;
      const place = (msg: Uint8Array): Uint8Array => {
        if (!into) return msg;
        if (msg.byteLength !== into.byteLength) {
          throw new PlexusCollectivesError(
            MODULE,
            'mismatch',
            `rank ${this.rank} expected ${into.byteLength} bytes from rank ${src}, got ${msg.byteLength}`,
          );
        }
        into.set(msg);
        return into;
      };
      const tick = (msg: Uint8Array) => {
        const t = arrival.get(msg);
        if (t !== undefined) clocks[this.rank] = Math.max(clocks[this.rank]!, t);
      };
      const ready = q.messages.shift();
      if (ready) {
        // Deferred, so operations issued together see the same clock.
        return Promise.resolve().then(() => {
          tick(ready);
          return place(ready);
        });
      }
      return new Promise<Uint8Array>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const waiter: Waiter = {
          resolve: (msg) => {
            if (timer) clearTimeout(timer);
            try {
              tick(msg);
              resolve(place(msg));
            } catch (error) {
              reject(error);
            }
          },
          reject: (error) => {
            if (timer) clearTimeout(timer);
            reject(error);
          },
        };
        q.waiters.push(waiter);
        const timeoutMs = options?.timeoutMs;
        if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
          timer = setTimeout(() => {
            const i = q.waiters.indexOf(waiter);
            if (i >= 0) q.waiters.splice(i, 1);
            reject(
              new PlexusCollectivesError(
                MODULE,
                'timeout',
                `rank ${this.rank} timed out after ${timeoutMs} ms waiting for rank ${src}`,
              ),
            );
          }, timeoutMs);
        }
      });
    }

    async close(): Promise<void> {
      if (this.closed) return;
      this.closed = true;
      for (let src = 0; src < worldSize; src++) {
        const q = queues[src * worldSize + this.rank]!;
        for (const w of q.waiters.splice(0)) {
          w.reject(new PlexusCollectivesError(MODULE, 'broken', `rank ${this.rank} was closed`));
        }
      }
    }
  }

  for (let r = 0; r < worldSize; r++) net.endpoints.push(new Endpoint(r));
  return net;
}
