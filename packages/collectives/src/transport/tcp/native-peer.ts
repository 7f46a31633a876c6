import { PlexusCollectivesError } from '../../errors.js';
import type { NativeAddon, NativeTcpConfig } from '../../native/addon.js';
import { TCP_MODULE } from './connection.js';
import { deliverMessage, type PeerLink, peerOperationError, type TcpPeer } from './peer.js';

/** Event kinds of native/tcp_engine.h. */
const EVENT = {
  sendDone: 1,
  recvDone: 2,
  sendClosed: 3,
  recvClosed: 4,
  failed: 5,
  ringDone: 6,
} as const;

interface PendingSend {
  /** Kept referenced until the engine is done with it (the send-done event or the engine's stop). */
  bytes: Uint8Array;
  settled: boolean;
  resolve: () => void;
  reject: (error: PlexusCollectivesError) => void;
  timer: NodeJS.Timeout;
}

/** A ring all-reduce running on the engine threads of two peers. */
interface RunningRing {
  done(): void;
  fail(error: PlexusCollectivesError): void;
}

/** The messages of one rank's part of a native ring all-reduce (built by `ringSchedule`). */
export interface NativeRingPlan {
  /**
   * One row of `RING_RECV_ROW` numbers per receive from the left
   * neighbour: reduced into the buffer as it streams in (1, reduce-scatter)
   * or received in place (0, all-gather), byte offset in the buffer, byte
   * length, op code, divisor (`avg`'s last step: the world size, else 0),
   * the send it makes ready (-1: none).
   */
  recvs: Float64Array;
  /** One row of `RING_SEND_ROW` numbers per send to the right: byte offset, byte length, ready at the start (1) or not (0). */
  sends: Float64Array;
}

/** Numbers per receive row of a `NativeRingPlan`. */
export const RING_RECV_ROW = 6;
/** Numbers per send row of a `NativeRingPlan`. */
export const RING_SEND_ROW = 3;

let nextRingId = 0;

/**
 * How long a native ring all-reduce may take: `ms` for the whole call
 * (`whole`, a caller's deadline), or `ms` without any of its messages
 * finishing (the transport's per-call timeout, as each message of the
 * JavaScript ring gets).
 */
export interface RingTimeout {
  ms: number;
  whole: boolean;
}

interface PendingRecv {
  into: Uint8Array | undefined;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: PlexusCollectivesError) => void;
  timer: NodeJS.Timeout;
}

/**
 * One peer of the TCP transport whose connections are driven by the native
 * engine (native/tcp_engine.h): a thread writes this rank's frames, another
 * reads the peer's straight into posted arrays, and JavaScript hears once
 * per message instead of once per socket read. Same wire format, message
 * numbering, striping, checks and failure semantics as `TcpPeer`, which it
 * replaces after the handshakes (`adopt`).
 */
export class NativeTcpPeer implements PeerLink {
  private handle: object | undefined;
  /** The engine's threads are stopped (tcpClose); the handle still reads arrived messages. */
  private stopped = false;
  private sendFailure: PlexusCollectivesError | undefined;
  private recvFailure: PlexusCollectivesError | undefined;
  private recvClosed = 0;
  private nextSendSeq = 0;
  private nextPostSeq = 0;
  private readonly sends = new Map<number, PendingSend>();
  private readonly posted = new Map<number, PendingRecv>();
  private readonly rings = new Map<number, RunningRing>();

  private constructor(
    readonly rank: number,
    private readonly connections: number,
    private readonly native: NativeAddon,
  ) {}

  /**
   * Takes over the connections of `peer` (all attached, no frame half read,
   * reading already paused after each handshake) and starts the engine on
   * them. Returns a reason instead when a connection cannot be handed over;
   * `peer` is then untouched.
   */
  static adopt(
    peer: TcpPeer,
    native: NativeAddon,
    config: NativeTcpConfig,
  ): NativeTcpPeer | string {
    const k = peer.sendConns.length;
    const handed = [...peer.sendConns, ...peer.recvConns].map((c) =>
      c === undefined ? 'a connection is missing' : c.handOver(),
    );
    const refused = handed.find((h): h is string => typeof h === 'string');
    if (refused !== undefined) return refused;
    const ok = handed as { fd: number; release: () => void }[];
    const seqs = [...peer.sendConns, ...peer.recvConns].map((c) => c!.sequenceNumbers);
    const self = new NativeTcpPeer(peer.rank, k, native);
    try {
      self.handle = native.tcpOpen(
        config,
        ok.slice(0, k).map((h) => h.fd),
        seqs.slice(0, k).map((s) => s.send),
        ok.slice(k).map((h) => h.fd),
        seqs.slice(k).map((s) => s.recv),
        `rank ${peer.rank}`,
        (kind, msgSeq, staged, conn, reason) => {
          try {
            self.onEvent(kind, msgSeq, staged, conn, reason);
          } catch {
            // never into the addon's callback: the peer's own promises carry failures
          }
        },
      );
    } catch (error) {
      // Out of descriptors, say: the sockets are still whole, the caller resumes them.
      return `the native engine did not start: ${(error as Error).message}`;
    }
    for (const h of ok) h.release();
    return self;
  }

  /** Why the peer failed (either direction), if it did. */
  get failure(): PlexusCollectivesError | undefined {
    return this.sendFailure ?? this.recvFailure;
  }

  send(bytes: Uint8Array, timeoutMs: number): Promise<void> {
    if (this.sendFailure || this.stopped) {
      return Promise.reject(this.brokenError('send', this.failure ?? this.closedError()));
    }
    const msgSeq = this.nextSendSeq;
    try {
      this.native.tcpSend(this.handle!, msgSeq, bytes);
    } catch (error) {
      return Promise.reject(
        new PlexusCollectivesError(TCP_MODULE, 'invalid-argument', (error as Error).message),
      );
    }
    this.nextSendSeq = (this.nextSendSeq + 1) >>> 0;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new PlexusCollectivesError(
            TCP_MODULE,
            'timeout',
            `send of ${bytes.byteLength} bytes to rank ${this.rank} timed out after ${Math.round(timeoutMs)} ms`,
          ),
        );
      }, timeoutMs);
      // Registered before any event about it can be delivered (events run
      // as their own tasks, after this).
      this.sends.set(msgSeq, { bytes, settled: false, resolve, reject, timer });
    });
  }

  recv(into: Uint8Array | undefined, timeoutMs: number): Promise<Uint8Array> {
    const msgSeq = this.nextPostSeq;
    // A message that had fully arrived is delivered even after the peer
    // failed or closed (the stopped engine still holds it), as TcpPeer does.
    let ready: ArrayBuffer | true | undefined;
    try {
      ready = this.native.tcpPostRecv(this.handle!, msgSeq, into ?? null);
    } catch (error) {
      return Promise.reject(
        new PlexusCollectivesError(TCP_MODULE, 'invalid-argument', (error as Error).message),
      );
    }
    this.nextPostSeq = (this.nextPostSeq + 1) >>> 0;
    if (ready === true) return Promise.resolve(into!);
    if (ready !== undefined) return deliverMessage(this.rank, new Uint8Array(ready), into);
    if (this.recvFailure || this.stopped) {
      return Promise.reject(this.brokenError('recv', this.recvFailure ?? this.closedError()));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new PlexusCollectivesError(
            TCP_MODULE,
            'timeout',
            `recv from rank ${this.rank} timed out after ${Math.round(timeoutMs)} ms`,
          ),
        );
      }, timeoutMs);
      this.posted.set(msgSeq, { into, resolve, reject, timer });
    });
  }

  /**
   * Runs this rank's part of a ring all-reduce on the engine threads of
   * `left` (which receives) and `right` (which sends), native/ring_op.h:
   * each chunk is reduced and passed on in the thread that received it, and
   * JavaScript hears once. `buf` must stay untouched until the promise
   * settles. Any failure (either peer, or the `timeout`) fails both peers,
   * so no engine thread touches `buf` once it rejects.
   */
  static ringAllReduce(
    left: NativeTcpPeer,
    right: NativeTcpPeer,
    plan: NativeRingPlan,
    dtypeCode: number,
    buf: Uint8Array,
    timeout: RingTimeout,
  ): Promise<void> {
    for (const p of [left, right]) {
      if (p.failure || p.stopped) {
        return Promise.reject(p.brokenError('all-reduce', p.failure ?? p.closedError()));
      }
    }
    const id = nextRingId;
    nextRingId = (nextRingId + 1) >>> 0;
    const recvBase = left.nextPostSeq;
    const sendBase = right.nextSendSeq;
    const what = `ring all-reduce of ${buf.byteLength} bytes (from rank ${left.rank}, to rank ${right.rank})`;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (error?: PlexusCollectivesError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        left.rings.delete(id);
        right.rings.delete(id);
        if (error === undefined) {
          resolve();
          return;
        }
        // Both engines stopped (threads joined) before the arrays are let go.
        left.fail(error);
        right.fail(error);
        reject(error);
      };
      let op: object;
      try {
        op = left.native.tcpRingAllReduce(
          left.handle!,
          right.handle!,
          id,
          recvBase,
          sendBase,
          dtypeCode,
          buf,
          plan.recvs,
          plan.sends,
        );
      } catch (error) {
        reject(
          new PlexusCollectivesError(TCP_MODULE, 'invalid-argument', (error as Error).message),
        );
        return;
      }
      // Registered after the call: its events arrive as tasks of their own.
      // Kept referenced here until settled: the engine writes into `buf`.
      const ring: RunningRing & { buf: Uint8Array } = {
        buf,
        done: () => settle(),
        fail: (error) => settle(error),
      };
      left.rings.set(id, ring);
      right.rings.set(id, ring);
      left.nextPostSeq = (recvBase + plan.recvs.length / RING_RECV_ROW) >>> 0;
      right.nextSendSeq = (sendBase + plan.sends.length / RING_SEND_ROW) >>> 0;
      const ms = Math.round(timeout.ms);
      if (timeout.whole) {
        timer = setTimeout(() => {
          settle(
            new PlexusCollectivesError(TCP_MODULE, 'timeout', `${what} timed out after ${ms} ms`),
          );
        }, timeout.ms);
        return;
      }
      // No deadline for the whole call: as the JavaScript ring's per-message
      // timeouts, fail only when no message of it finished for `ms`.
      let seen = -1;
      const watch = () => {
        const now = left.native.tcpRingProgress(op);
        if (now === seen) {
          settle(
            new PlexusCollectivesError(
              TCP_MODULE,
              'timeout',
              `${what} timed out: no message of it finished for ${ms} ms`,
            ),
          );
          return;
        }
        seen = now;
        timer = setTimeout(watch, timeout.ms);
      };
      watch();
    });
  }

  /** Fails the peer once: stops the engine (its threads are joined), then rejects what is pending. */
  fail(error: PlexusCollectivesError): void {
    this.stop(false);
    this.failSend(error);
    this.failRecv(error);
  }

  close(reason: PlexusCollectivesError): void {
    this.stop(true);
    this.failSend(reason);
    this.failRecv(reason);
  }

  private stop(graceful: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    // The handle stays: a stopped engine still hands out arrived messages.
    this.native.tcpClose(this.handle!, graceful);
    // The engine no longer reads any queued array.
    for (const [seq, s] of this.sends) if (s.settled) this.sends.delete(seq);
  }

  private failRings(error: PlexusCollectivesError): void {
    for (const ring of [...this.rings.values()]) ring.fail(this.brokenError('all-reduce', error));
  }

  private failSend(error: PlexusCollectivesError): void {
    if (this.sendFailure) return;
    this.sendFailure = error;
    this.failRings(error);
    for (const [seq, s] of this.sends) {
      clearTimeout(s.timer);
      s.settled = true;
      s.reject(this.brokenError('send', error));
      if (this.stopped) this.sends.delete(seq);
    }
  }

  private failRecv(error: PlexusCollectivesError): void {
    if (this.recvFailure) return;
    this.recvFailure = error;
    this.failRings(error);
    // Safe to let go of the arrays: the engine is stopped, or every receive
    // connection closed cleanly (nothing more is read).
    for (const [seq, p] of this.posted) {
      clearTimeout(p.timer);
      this.posted.delete(seq);
      p.reject(this.brokenError('recv', error));
    }
  }

  private onEvent(
    kind: number,
    msgSeq: number,
    staged: ArrayBuffer | undefined,
    conn: number,
    reason: string,
  ): void {
    if (kind === EVENT.sendDone) {
      const s = this.sends.get(msgSeq);
      if (s === undefined) return;
      this.sends.delete(msgSeq);
      if (s.settled) return;
      clearTimeout(s.timer);
      s.resolve();
    } else if (kind === EVENT.recvDone) {
      const p = this.posted.get(msgSeq);
      if (p === undefined) return;
      this.posted.delete(msgSeq);
      clearTimeout(p.timer);
      const got = staged === undefined ? p.into! : new Uint8Array(staged);
      deliverMessage(this.rank, got, p.into).then(p.resolve, p.reject);
    } else if (kind === EVENT.sendClosed) {
      this.failSend(this.lost('send', conn, 'closed by the peer'));
    } else if (kind === EVENT.recvClosed) {
      if (++this.recvClosed === this.connections) {
        // As TcpPeer: a peer that closed every connection it sends on has left.
        const error = this.lost('recv', conn, 'closed by the peer');
        this.failRecv(error);
        this.failSend(error);
      }
    } else if (kind === EVENT.ringDone) {
      this.rings.get(msgSeq)?.done();
    } else if (kind === EVENT.failed) {
      if (this.stopped) return;
      this.fail(new PlexusCollectivesError(TCP_MODULE, 'broken', reason));
    }
  }

  private lost(direction: string, index: number, why: string): PlexusCollectivesError {
    return new PlexusCollectivesError(
      TCP_MODULE,
      'broken',
      `${direction} connection ${index} with rank ${this.rank} lost: ${why}`,
    );
  }

  private closedError(): PlexusCollectivesError {
    return new PlexusCollectivesError(
      TCP_MODULE,
      'broken',
      `connection with rank ${this.rank} closed`,
    );
  }

  private brokenError(what: string, cause: PlexusCollectivesError): PlexusCollectivesError {
    return peerOperationError(what, this.rank, cause);
  }
}
