import { randomBytes } from 'node:crypto';
import { openSync, readSync, writeSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { switchedOff } from '../../env-switch.js';
import { PlexusCollectivesError } from '../../errors.js';
import type { Secret } from '../../fault-tolerance/auth.js';
import { loadNativeAddon } from '../../native/addon.js';
import type { StoreV1 } from '../../store/types.js';
import type { PointToPointCallOptions, PointToPointV1 } from '../point-to-point.js';
import { checkInt } from '../thread-transport.js';
import { acceptShmAuth, connectShmAuth } from './auth.js';
import {
  type ControlFrame,
  connectControl,
  controlPath,
  encodeFrame,
  FrameType,
  frameReader,
  listenControl,
  SHM_MODULE,
} from './control.js';
import { closeQuietly, createSegment, segmentDir, segmentPath, unlinkQuietly } from './segment.js';
import { releaseAllShared } from './shared-buffers.js';
import {
  dataHalfBytes,
  dataSegmentPath,
  type MappedSegment,
  mapDataSegment,
  PID_WORD,
  type ZeroCopyChannel,
} from './zero-copy.js';

/**
 * Set to `0` to keep the shared-memory transport on its pwrite/pread path
 * even where the addon loads (for comparisons and to test the fallback).
 */
export const ZERO_COPY_ENV = 'PLEXUS_SHM_ZERO_COPY';

/** Options for `createShmTransport`. */
export interface ShmTransportOptions {
  rank: number;
  worldSize: number;
  /** Rendezvous store: rank 0 publishes the group's random id there. */
  store: StoreV1;
  /** Prefix of this transport's store keys (default `plexus/shm`); one per group. */
  prefix?: string;
  /**
   * Bytes per slot (default 4 MiB). Each ordered pair of ranks has one
   * segment of two slots, so a rank holds `2 × slotBytes × (worldSize − 1)`
   * bytes of outgoing segments.
   */
  slotBytes?: number;
  /** Directory of the segment files (default /dev/shm, else the OS temporary directory). */
  dir?: string;
  /** Default per-call timeout and the timeout of the rendezvous (ms, default 30 000). */
  timeoutMs?: number;
  /**
   * Map every rank's all-reduce segment into every process with the native
   * addon (default true, unless `PLEXUS_SHM_ZERO_COPY=0`). Used only when
   * the addon loads on every rank; `transport.zeroCopy` says whether it did.
   */
  zeroCopy?: boolean;
  /**
   * Shared secret: every control connection then runs a mutual HMAC-SHA256
   * challenge before its first Hello, and a rank or stranger without it is
   * refused. Without it the control frames are exactly those of earlier
   * versions (the group id is then the only thing keeping strangers out).
   */
  secret?: Secret;
  /** Told about every refused incoming control connection (garbage, wrong or missing secret). */
  onRejectedConnection?: (error: PlexusCollectivesError) => void;
}

/** A `PointToPointV1` between processes on one host over shared-memory segments. */
export interface ShmTransport extends PointToPointV1 {
  /** Where the segment files were created. */
  readonly dir: string;
  /** The group's random id, part of every segment and socket name. */
  readonly id: string;
  /** Bytes per slot. */
  readonly slotBytes: number;
  /** Always undefined: no TCP listener (present so code reading a process group's `transport.address` works with either transport). */
  readonly address: undefined;
  /**
   * Whether every rank mapped every other rank's all-reduce segment with the
   * native addon, so that a process group's all-reduce reads the peers' data
   * in place (`shmAllReduce`); false: everything goes through pwrite/pread.
   */
  readonly zeroCopy: boolean;
  /** Why `zeroCopy` is what it is (the addon's path, or why it is off). */
  readonly zeroCopyReason: string;
}

interface SendOp {
  bytes: Uint8Array;
  offset: number;
  started: boolean;
  resolve: () => void;
  reject: (error: PlexusCollectivesError) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface RecvOp {
  into: Uint8Array | undefined;
  started: boolean;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: PlexusCollectivesError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** A message being copied out of the slots, chunk by chunk. */
interface Assembly {
  total: number;
  offset: number;
  /** Where the chunks go; undefined when a receive with a wrong-sized buffer discards them. */
  target: Uint8Array | undefined;
  /** The receive it completes; undefined for a message nobody asked for yet. */
  op: RecvOp | undefined;
  error: PlexusCollectivesError | undefined;
}

/** One peer: the segment this rank writes, the one it reads, and the control socket. */
interface Peer {
  rank: number;
  socket: Socket | undefined;
  outFd: number;
  outPath: string;
  inFd: number | undefined;
  helloSeen: boolean;
  readySeen: boolean;
  /** Whether each of the two slots of the outgoing segment may be written. */
  free: [boolean, boolean];
  nextSlot: 0 | 1;
  sends: SendOp[];
  /** The message whose chunks are arriving, bound to the head receive if one was waiting. */
  assembling: Assembly | undefined;
  /** Whole messages that arrived before a receive asked for them. */
  ready: Uint8Array[];
  recvs: RecvOp[];
  /** Set once the control socket closed or a call timed out mid-message. */
  broken: PlexusCollectivesError | undefined;
  /** The peer's zero-copy segment, mapped here, when both ends have one of the same size. */
  zc: MappedSegment | undefined;
}

const DEFAULT_SLOT_BYTES = 4 << 20;

/** The zero-copy channel of each transport that has one; not part of the public interface. */
const channels = new WeakMap<ShmTransport, ZeroCopyChannel>();

/**
 * The zero-copy all-reduce channel of `transport`, when it is a shared-memory
 * transport whose ranks all mapped each other's segments; else undefined.
 */
export function zeroCopyChannelOf(transport: unknown): ZeroCopyChannel | undefined {
  return typeof transport === 'object' && transport !== null
    ? channels.get(transport as ShmTransport)
    : undefined;
}

function mismatch(src: number, got: number, given: number): PlexusCollectivesError {
  return new PlexusCollectivesError(
    SHM_MODULE,
    'mismatch',
    `rank ${src} sent ${got} bytes but recv was given a buffer of ${given} bytes`,
  );
}

/**
 * Creates a point-to-point transport between processes on one host, with no
 * socket on the data path. Each ordered pair of ranks (src → dst) gets a
 * segment file of two slots under /dev/shm (tmpfs: the POSIX shared-memory
 * segment that `shm_open` would give), written by src with `pwrite` and read
 * by dst with `pread`. A message streams through the two slots in chunks of
 * at most `slotBytes`, so the sender fills one slot while the receiver
 * copies the other out. Only 16-byte control frames (slot full / slot free)
 * travel over a Unix-domain socket per pair, whose closing also tells a rank
 * that its peer died. The segment files are unlinked as soon as both ends
 * have them open (and on `close()` and process exit), so nothing is left in
 * /dev/shm even when a process is killed after the rendezvous.
 */
export async function createShmTransport(options: ShmTransportOptions): Promise<ShmTransport> {
  const worldSize = checkInt(SHM_MODULE, 'worldSize', options.worldSize, 1, 65536);
  const rank = checkInt(SHM_MODULE, 'rank', options.rank, 0, worldSize - 1);
  const slotBytes = checkInt(
    SHM_MODULE,
    'slotBytes',
    options.slotBytes ?? DEFAULT_SLOT_BYTES,
    1,
    2 ** 30,
  );
  const timeoutMs = checkInt(SHM_MODULE, 'timeoutMs', options.timeoutMs ?? 30_000, 1, 2 ** 31 - 1);
  const prefix = options.prefix ?? 'plexus/shm';
  const secret = options.secret;
  if (
    secret !== undefined &&
    !((typeof secret === 'string' || secret instanceof Uint8Array) && secret.length > 0)
  ) {
    throw new PlexusCollectivesError(
      SHM_MODULE,
      'invalid-argument',
      `expected secret to be a non-empty string or Uint8Array, got ${Object.prototype.toString.call(secret)}${typeof secret === 'string' ? ' (empty)' : ''}`,
    );
  }
  const dir = segmentDir(options.dir);
  let id: string;
  if (rank === 0) {
    id = randomBytes(8).toString('hex');
    await options.store.set(`${prefix}/id`, id, { timeoutMs });
  } else {
    id = new TextDecoder().decode(await options.store.get(`${prefix}/id`, { timeoutMs }));
  }
  if (!/^[0-9a-f]{16}$/.test(id)) {
    throw new PlexusCollectivesError(
      SHM_MODULE,
      'mismatch',
      `store key ${prefix}/id holds "${id}", not a shared-memory group id: is another kind of group using prefix ${prefix}?`,
    );
  }
  const zeroCopyWanted = (options.zeroCopy ?? true) && !switchedOff(ZERO_COPY_ENV);
  const transport = new Shm(rank, worldSize, slotBytes, timeoutMs, dir, id, zeroCopyWanted, {
    secret,
    onRejected: options.onRejectedConnection,
  });
  try {
    await transport.connect();
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
}

class Shm implements ShmTransport {
  readonly specificationVersion = 'v1' as const;
  readonly address = undefined;
  private readonly peers: (Peer | undefined)[] = [];
  private server: Server | undefined;
  /** Accepted control connections still authenticating (destroyed once the rendezvous ends). */
  private readonly unauthenticated = new Set<Socket>();
  private closed: PlexusCollectivesError | undefined;
  /** This rank's own zero-copy segment, while it may still be used. */
  private zc: MappedSegment | undefined;
  private readonly zcPath: string;
  private readonly zcHalfBytes: number;
  zeroCopy = false;
  zeroCopyReason: string;
  private readonly onExit = () => {
    for (const p of this.peers) if (p !== undefined) unlinkQuietly(p.outPath);
    unlinkQuietly(this.zcPath);
  };

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly slotBytes: number,
    private readonly timeoutMs: number,
    readonly dir: string,
    readonly id: string,
    private readonly zeroCopyWanted: boolean,
    private readonly auth: {
      secret: Secret | undefined;
      onRejected: ((error: PlexusCollectivesError) => void) | undefined;
    },
  ) {
    this.zcPath = dataSegmentPath(dir, id, rank);
    this.zcHalfBytes = dataHalfBytes(slotBytes, worldSize);
    this.zeroCopyReason = zeroCopyWanted
      ? 'not connected yet'
      : `turned off (zeroCopy: false or ${ZERO_COPY_ENV}=0)`;
  }

  /** Creates and maps this rank's zero-copy segment when the addon is there and wanted. */
  private createZeroCopySegment(): void {
    if (!this.zeroCopyWanted) return;
    const { native, why } = loadNativeAddon();
    if (native === undefined) {
      this.zeroCopyReason = why;
      return;
    }
    try {
      this.zc = mapDataSegment(native, this.zcPath, this.zcHalfBytes, true);
      this.zc.words[PID_WORD] = process.pid;
    } catch (error) {
      this.zeroCopyReason = `mapping ${this.zcPath} failed: ${(error as Error).message}`;
    }
  }

  /** After the rendezvous: zero-copy when every pair mapped, else release the mappings. */
  private settleZeroCopy(): void {
    // Every peer sent Ready, so every peer that wanted to map our segment has.
    unlinkQuietly(this.zcPath);
    const own = this.zc;
    const missing = this.peers.filter((p) => p !== undefined && p.zc === undefined);
    if (own !== undefined && missing.length === 0) {
      this.zeroCopy = true;
      this.zeroCopyReason = loadNativeAddon().why;
      const segments: ArrayBuffer[] = [];
      const words: Int32Array[] = [];
      const header64: Float64Array[] = [];
      for (let r = 0; r < this.worldSize; r++) {
        const m = r === this.rank ? own : this.peers[r]!.zc!;
        segments.push(m.mapping.buffer);
        words.push(m.words);
        header64.push(m.header64);
      }
      channels.set(this, {
        rank: this.rank,
        worldSize: this.worldSize,
        native: loadNativeAddon().native!,
        halfBytes: this.zcHalfBytes,
        segments,
        words,
        header64,
        seq: 0,
        pieces: 0,
        dir: this.dir,
        id: this.id,
        shared: new Map(),
        allocations: 0,
        blocking: words.every((w, r) => r === this.rank || w[PID_WORD] !== process.pid),
        failure: (peer) => this.closed ?? this.peers[peer]?.broken,
      });
      return;
    }
    if (own !== undefined) {
      this.zeroCopyReason = `ranks ${missing.map((p) => p!.rank).join(', ')} have no zero-copy segment of ${this.zcHalfBytes} bytes per half (addon missing there, zero-copy turned off, or another slotBytes)`;
    }
    this.releaseZeroCopy();
  }

  /** Unmaps every zero-copy mapping now (views on them become detached). */
  private releaseZeroCopy(): void {
    const native = loadNativeAddon().native;
    const channel = channels.get(this);
    channels.delete(this);
    if (channel !== undefined) releaseAllShared(channel);
    this.zeroCopy = false;
    const all = [this.zc, ...this.peers.map((p) => p?.zc)];
    this.zc = undefined;
    for (const p of this.peers) if (p !== undefined) p.zc = undefined;
    for (const m of all) if (m !== undefined) native?.unmap(m.mapping.handle, m.mapping.buffer);
  }

  /** Creates the outgoing segments, then exchanges Hello/Ready with every peer. */
  async connect(): Promise<void> {
    if (this.worldSize === 1) {
      this.zeroCopyReason = 'world size 1: nothing to share';
      return;
    }
    process.on('exit', this.onExit);
    this.createZeroCopySegment();
    for (let p = 0; p < this.worldSize; p++) {
      if (p === this.rank) {
        this.peers.push(undefined);
        continue;
      }
      const outPath = segmentPath(this.dir, this.id, this.rank, p);
      this.peers.push({
        rank: p,
        socket: undefined,
        outFd: createSegment(outPath, 2 * this.slotBytes),
        outPath,
        inFd: undefined,
        helloSeen: false,
        readySeen: false,
        zc: undefined,
        free: [true, true],
        nextSlot: 0,
        sends: [],
        assembling: undefined,
        ready: [],
        recvs: [],
        broken: undefined,
      });
    }
    const deadline = performance.now() + this.timeoutMs;
    let settle: ((error?: Error) => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // It may fail while the connects are still pending: awaited below, not unhandled.
    done.catch(() => {});
    const check = () => {
      if (this.peers.every((p) => p === undefined || (p.helloSeen && p.readySeen))) settle?.();
    };
    const attach = (socket: Socket, known: Peer | undefined, early?: Buffer) => {
      let peer = known;
      const reader = frameReader((frame) => {
        if (peer === undefined) {
          const p = frame.type === FrameType.Hello ? this.peers[frame.value] : undefined;
          if (p === undefined || p.socket !== undefined) {
            socket.destroy();
            return;
          }
          peer = p;
          p.socket = socket;
        }
        this.onFrame(peer, frame);
        check();
      });
      socket.on('data', reader);
      socket.on('error', () => {});
      socket.on('close', () => {
        if (peer === undefined) return;
        this.breakPeer(
          peer,
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `control connection with rank ${peer.rank} closed (the process exited or closed its transport)`,
          ),
        );
        if (!(peer.helloSeen && peer.readySeen)) {
          settle?.(peer.broken);
        }
      });
      // Hello's length field advertises this rank's zero-copy half size (0: none).
      socket.write(
        encodeFrame(FrameType.Hello, 0, this.zc === undefined ? 0 : this.zcHalfBytes, this.rank),
      );
      // Frames that came with the Welcome: only now, so that Ready follows our Hello.
      if (early !== undefined && early.length > 0) reader(early);
    };
    const secret = this.auth.secret;
    this.server = await listenControl(controlPath(this.dir, this.id, this.rank), (s) => {
      if (secret === undefined) {
        attach(s, undefined);
        return;
      }
      this.unauthenticated.add(s);
      const ctx = { secret, id: this.id, acceptor: this.rank, timeoutMs: this.timeoutMs };
      acceptShmAuth(s, ctx, (refusal) => {
        this.unauthenticated.delete(s);
        if (refusal === undefined) {
          attach(s, undefined);
          return;
        }
        this.auth.onRejected?.(
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `rank ${this.rank} refused a control connection: ${refusal}`,
          ),
        );
      });
    });
    const timer = setTimeout(
      () =>
        settle?.(
          new PlexusCollectivesError(
            SHM_MODULE,
            'timeout',
            `rank ${this.rank}: shared-memory rendezvous timed out after ${this.timeoutMs} ms (ranks ${this.peers
              .filter((p) => p !== undefined && !(p.helloSeen && p.readySeen))
              .map((p) => p!.rank)
              .join(', ')} not connected)`,
          ),
        ),
      this.timeoutMs,
    );
    try {
      // The higher rank connects, the lower one accepts.
      await Promise.all(
        this.peers.slice(0, this.rank).map(async (p) => {
          if (p === undefined) return;
          let socket: Socket;
          try {
            socket = await connectControl(controlPath(this.dir, this.id, p.rank), deadline);
          } catch (error) {
            throw new PlexusCollectivesError(
              SHM_MODULE,
              'timeout',
              `rank ${this.rank} could not reach rank ${p.rank}'s control socket: ${(error as Error).message}`,
              { cause: error },
            );
          }
          p.socket = socket;
          if (secret === undefined) {
            attach(socket, p);
            return;
          }
          const ctx = { secret, id: this.id, acceptor: p.rank, timeoutMs: this.timeoutMs };
          connectShmAuth(socket, ctx, this.rank, (result) => {
            if (result instanceof PlexusCollectivesError) {
              this.breakPeer(p, result);
              settle?.(result);
            } else {
              attach(socket, p, result);
            }
          });
        }),
      );
      check();
      await done;
    } finally {
      clearTimeout(timer);
      settle = undefined;
    }
    this.server.close();
    this.server = undefined;
    this.dropUnauthenticated();
    this.settleZeroCopy();
  }

  /** Strangers still in the handshake cannot become peers once the group is complete. */
  private dropUnauthenticated(): void {
    for (const s of this.unauthenticated) s.destroy();
    this.unauthenticated.clear();
  }

  private onFrame(peer: Peer, frame: ControlFrame): void {
    // After a failure the rest of the stream is not frames (a refused
    // challenge's nonce, say): nothing more is read from it.
    if (peer.broken) return;
    switch (frame.type) {
      case FrameType.Hello:
        if (!peer.helloSeen) {
          const path = segmentPath(this.dir, this.id, peer.rank, this.rank);
          try {
            peer.inFd = openSync(path, 'r');
          } catch (error) {
            // Closing the socket fails the rendezvous on both ends.
            this.breakPeer(
              peer,
              new PlexusCollectivesError(
                SHM_MODULE,
                'broken',
                `could not open rank ${peer.rank}'s segment ${path}: ${(error as Error).message}`,
                { cause: error },
              ),
            );
            return;
          }
          if (this.zc !== undefined && frame.length === this.zcHalfBytes) {
            const path = dataSegmentPath(this.dir, this.id, peer.rank);
            try {
              peer.zc = mapDataSegment(loadNativeAddon().native!, path, this.zcHalfBytes, false);
            } catch (error) {
              this.breakPeer(
                peer,
                new PlexusCollectivesError(
                  SHM_MODULE,
                  'broken',
                  `could not map rank ${peer.rank}'s zero-copy segment ${path}: ${(error as Error).message}`,
                  { cause: error },
                ),
              );
              return;
            }
          }
          peer.helloSeen = true;
          peer.socket?.write(encodeFrame(FrameType.Ready, 0, 0, this.rank));
        }
        return;
      case FrameType.Ready:
        peer.readySeen = true;
        // Both ends hold the segment open: the name is no longer needed.
        unlinkQuietly(peer.outPath);
        return;
      case FrameType.Full:
        // The message length and chunk come from the peer: checked before use.
        if (
          !Number.isSafeInteger(frame.value) ||
          frame.value < 0 ||
          frame.length > this.slotBytes ||
          (frame.slot !== 0 && frame.slot !== 1)
        ) {
          this.breakPeer(
            peer,
            new PlexusCollectivesError(
              SHM_MODULE,
              'broken',
              `rank ${peer.rank} sent a malformed chunk frame (message of ${frame.value} bytes, chunk of ${frame.length} in slot ${frame.slot}; slots hold ${this.slotBytes})`,
            ),
          );
          return;
        }
        this.takeChunk(peer, frame);
        return;
      case FrameType.Free:
        if (frame.slot === 0 || frame.slot === 1) peer.free[frame.slot] = true;
        this.pumpSend(peer);
        return;
      case FrameType.Challenge:
        // Only a rank without a secret gets here (with one, the handshake consumes it).
        this.breakPeer(
          peer,
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `rank ${this.rank}: authentication with rank ${peer.rank} failed: it requires a shared secret and this rank has none (set the same secret on every rank)`,
          ),
        );
        return;
      default:
        this.breakPeer(
          peer,
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `rank ${peer.rank} sent an unknown control frame type ${String(frame.type)}`,
          ),
        );
    }
  }

  private peer(r: number, name: 'dst' | 'src'): Peer {
    if (this.closed !== undefined) throw this.closed;
    checkInt(SHM_MODULE, name, r, 0, this.worldSize - 1);
    const p = this.peers[r];
    if (p === undefined) {
      throw new PlexusCollectivesError(
        SHM_MODULE,
        'invalid-argument',
        `expected ${name} to be another rank than this one (${this.rank}), got ${r}`,
      );
    }
    // A receive may still take messages announced before the pair broke.
    if (p.broken !== undefined && name === 'dst') throw p.broken;
    return p;
  }

  async send(dst: number, bytes: Uint8Array, options?: PointToPointCallOptions): Promise<void> {
    const peer = this.peer(dst, 'dst');
    if (!(bytes instanceof Uint8Array)) {
      throw new PlexusCollectivesError(
        SHM_MODULE,
        'invalid-argument',
        `expected bytes to be a Uint8Array, got ${Object.prototype.toString.call(bytes)}`,
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    return new Promise<void>((resolve, reject) => {
      const op: SendOp = {
        bytes,
        offset: 0,
        started: false,
        resolve,
        reject,
        timer: this.expire(
          peer,
          peer.sends,
          () => op,
          timeoutMs,
          `send of ${bytes.byteLength} bytes to rank ${dst} timed out after ${Math.round(timeoutMs)} ms`,
        ),
      };
      peer.sends.push(op);
      this.pumpSend(peer);
    });
  }

  async recv(
    src: number,
    into?: Uint8Array,
    options?: PointToPointCallOptions,
  ): Promise<Uint8Array> {
    const peer = this.peer(src, 'src');
    if (into !== undefined && !(into instanceof Uint8Array)) {
      throw new PlexusCollectivesError(
        SHM_MODULE,
        'invalid-argument',
        `expected into to be a Uint8Array or undefined, got ${Object.prototype.toString.call(into)}`,
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    return new Promise<Uint8Array>((resolve, reject) => {
      const op: RecvOp = {
        into,
        started: false,
        resolve,
        reject,
        timer: this.expire(
          peer,
          peer.recvs,
          () => op,
          timeoutMs,
          `recv from rank ${src} timed out after ${Math.round(timeoutMs)} ms`,
        ),
      };
      peer.recvs.push(op);
      this.matchReady(peer);
    });
  }

  /**
   * The timer of a queued send or receive: on expiry it rejects with
   * `timeout` while the operation has not started, and breaks the pair once
   * part of its message is in the stream (the pair cannot resynchronise).
   */
  private expire<Op extends SendOp | RecvOp>(
    peer: Peer,
    queue: Op[],
    op: () => Op,
    timeoutMs: number,
    message: string,
  ): ReturnType<typeof setTimeout> {
    return setTimeout(() => {
      const error = new PlexusCollectivesError(SHM_MODULE, 'timeout', message);
      const o = op();
      if (o.started) {
        this.breakPeer(peer, error);
      } else {
        queue.splice(queue.indexOf(o), 1);
        o.reject(error);
      }
    }, timeoutMs);
  }

  /** Copies chunks of queued messages into free slots and announces each with a Full frame. */
  private pumpSend(peer: Peer): void {
    const socket = peer.socket;
    while (peer.broken === undefined && socket !== undefined) {
      const op = peer.sends[0];
      if (op === undefined) return;
      const slot = peer.nextSlot;
      if (!peer.free[slot]) return;
      const length = Math.min(this.slotBytes, op.bytes.byteLength - op.offset);
      try {
        let written = 0;
        while (written < length) {
          written += writeSync(
            peer.outFd,
            op.bytes,
            op.offset + written,
            length - written,
            slot * this.slotBytes + written,
          );
        }
      } catch (error) {
        this.breakPeer(
          peer,
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `writing the segment to rank ${peer.rank} failed: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        return;
      }
      peer.free[slot] = false;
      peer.nextSlot = slot === 0 ? 1 : 0;
      socket.write(encodeFrame(FrameType.Full, slot, length, op.bytes.byteLength));
      op.started = true;
      op.offset += length;
      if (op.offset >= op.bytes.byteLength) {
        peer.sends.shift();
        clearTimeout(op.timer);
        op.resolve();
      }
    }
  }

  /**
   * Copies one announced chunk out of the peer's segment and frees its slot
   * at once: into the head receive's buffer when that receive was already
   * waiting, else into a new buffer kept until a receive asks. Draining
   * eagerly keeps a send from waiting on the peer's next receive, as a
   * socket buffer would, which the collectives rely on (a rank may send
   * before it receives).
   */
  private takeChunk(peer: Peer, frame: ControlFrame): void {
    let a = peer.assembling;
    if (a === undefined) {
      const total = frame.value;
      const op = peer.ready.length === 0 ? peer.recvs[0] : undefined;
      a = { total, offset: 0, target: undefined, op, error: undefined };
      if (op === undefined || op.into === undefined) {
        try {
          a.target = new Uint8Array(total);
        } catch (error) {
          this.breakPeer(
            peer,
            new PlexusCollectivesError(
              SHM_MODULE,
              'broken',
              `cannot hold a message of ${total} bytes from rank ${peer.rank}: ${(error as Error).message}`,
              { cause: error },
            ),
          );
          return;
        }
      } else if (op.into.byteLength === total) {
        a.target = op.into;
      } else {
        // Consume the message anyway so that the next one stays aligned.
        a.error = mismatch(peer.rank, total, op.into.byteLength);
      }
      if (op !== undefined) op.started = true;
      peer.assembling = a;
    }
    if (a.target !== undefined && frame.length > 0) {
      try {
        let read = 0;
        while (read < frame.length) {
          const n = readSync(
            peer.inFd!,
            a.target,
            a.offset + read,
            frame.length - read,
            frame.slot * this.slotBytes + read,
          );
          if (n === 0) throw new Error('segment shorter than announced');
          read += n;
        }
      } catch (error) {
        this.breakPeer(
          peer,
          new PlexusCollectivesError(
            SHM_MODULE,
            'broken',
            `reading the segment from rank ${peer.rank} failed: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        return;
      }
    }
    a.offset += frame.length;
    peer.socket?.write(encodeFrame(FrameType.Free, frame.slot, 0, 0));
    if (a.offset < a.total) return;
    peer.assembling = undefined;
    if (a.op === undefined) {
      peer.ready.push(a.target!);
      this.matchReady(peer);
      return;
    }
    peer.recvs.shift();
    clearTimeout(a.op.timer);
    if (a.error !== undefined) a.op.reject(a.error);
    else a.op.resolve(a.target!);
  }

  /** Hands messages that arrived early to waiting receives, in order; fails receives that can never complete. */
  private matchReady(peer: Peer): void {
    for (;;) {
      const op = peer.recvs[0];
      if (op === undefined) return;
      const msg = peer.ready.shift();
      if (msg === undefined) {
        if (peer.broken !== undefined) this.failRecvs(peer, peer.broken);
        return;
      }
      peer.recvs.shift();
      clearTimeout(op.timer);
      if (op.into === undefined) op.resolve(msg);
      else if (op.into.byteLength !== msg.byteLength)
        op.reject(mismatch(peer.rank, msg.byteLength, op.into.byteLength));
      else {
        op.into.set(msg);
        op.resolve(op.into);
      }
    }
  }

  private failRecvs(peer: Peer, error: PlexusCollectivesError): void {
    for (const op of peer.recvs.splice(0)) {
      clearTimeout(op.timer);
      op.reject(error);
    }
  }

  /**
   * Marks the pair broken: sends reject at once, receives reject once the
   * messages that were already fully announced have been taken.
   */
  private breakPeer(peer: Peer, error: PlexusCollectivesError): void {
    if (peer.broken === undefined) peer.broken = error;
    for (const op of peer.sends.splice(0)) {
      clearTimeout(op.timer);
      op.reject(peer.broken);
    }
    // A half-copied message can never complete; whole ones still go to receives.
    peer.assembling = undefined;
    if (error.code === 'timeout') peer.ready.length = 0;
    this.matchReady(peer);
    peer.socket?.destroy();
  }

  async close(): Promise<void> {
    if (this.closed !== undefined) return;
    this.closed = new PlexusCollectivesError(
      SHM_MODULE,
      'broken',
      `the shared-memory transport of rank ${this.rank} is closed`,
    );
    process.off('exit', this.onExit);
    this.server?.close();
    this.server = undefined;
    this.dropUnauthenticated();
    unlinkQuietly(this.zcPath);
    this.releaseZeroCopy();
    for (const p of this.peers) {
      if (p === undefined) continue;
      p.ready.length = 0;
      this.breakPeer(p, this.closed);
      this.failRecvs(p, this.closed);
      unlinkQuietly(p.outPath);
      closeQuietly(p.outFd);
      if (p.inFd !== undefined) closeQuietly(p.inFd);
    }
  }
}
