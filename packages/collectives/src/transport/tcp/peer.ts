import { PlexusCollectivesError } from '../../errors.js';
import type { FrameConnection, FrameHandlers } from './connection.js';
import { TCP_MODULE } from './connection.js';
import { FrameType } from './frame.js';

/** How the messages to one peer are cut into frames. */
export interface StripePolicy {
  /** Messages of at least this many bytes are striped over every connection. */
  stripeMinBytes: number;
  /** Largest payload of one outgoing frame. */
  frameBytes: number;
  /** Largest message accepted from the peer. */
  maxMessageBytes: number;
}

/** What the TCP transport needs of one peer, whichever data path carries it. */
export interface PeerLink {
  readonly rank: number;
  /** Why the peer failed (either direction), if it did. */
  readonly failure: PlexusCollectivesError | undefined;
  /** Sends one message; resolves once `bytes` may be reused. */
  send(bytes: Uint8Array, timeoutMs: number): Promise<void>;
  /** Receives the next message (into `into` when given, which must fit exactly). */
  recv(into: Uint8Array | undefined, timeoutMs: number): Promise<Uint8Array>;
  /** Fails the peer: pending and later operations reject, connections are dropped. */
  fail(error: PlexusCollectivesError): void;
  /** Ends the peer gracefully: what was already written still reaches it. */
  close(reason: PlexusCollectivesError): void;
}

/** The error of `what` (send, recv) with `rank` after the pair failed with `cause` (a timeout stays one). */
export function peerOperationError(
  what: string,
  rank: number,
  cause: PlexusCollectivesError,
): PlexusCollectivesError {
  return new PlexusCollectivesError(
    TCP_MODULE,
    cause.code === 'timeout' ? 'timeout' : 'broken',
    `${what} with rank ${rank}: ${cause.message}`,
    { cause },
  );
}

/**
 * A whole message from `rank` for a receive: `msg` itself without `into`,
 * else copied into `into` (unless it is already there), which must have
 * exactly its size.
 */
export function deliverMessage(
  rank: number,
  msg: Uint8Array,
  into: Uint8Array | undefined,
): Promise<Uint8Array> {
  if (into === undefined) return Promise.resolve(msg);
  if (into.byteLength !== msg.byteLength) {
    return Promise.reject(
      new PlexusCollectivesError(
        TCP_MODULE,
        'mismatch',
        `rank ${rank} sent ${msg.byteLength} bytes but ${into.byteLength} were expected`,
      ),
    );
  }
  if (into !== msg) into.set(msg);
  return Promise.resolve(into);
}

/** How many messages ahead of the oldest unfinished one a peer may send. */
const WINDOW = 1 << 16;

interface PostedRecv {
  into: Uint8Array | undefined;
  resolve: (bytes: Uint8Array) => void;
  reject: (error: PlexusCollectivesError) => void;
  timer: NodeJS.Timeout;
}

interface Incoming {
  length: number;
  buf: Uint8Array;
  received: number;
}

/**
 * The messages exchanged with one peer over its `K` connections. Each
 * direction numbers its messages; a message of at least `stripeMinBytes` is
 * cut into `K` contiguous stripes, one per connection (as PCCL does to fill
 * long fat pipes), and each stripe into frames that carry their message
 * number and offset, so the receiver reassembles in place: when the receive
 * is already posted, payload bytes go straight into the caller's array.
 * Any lost connection, protocol violation or timeout fails the whole peer:
 * pending and later operations with it reject (messages that had fully
 * arrived are still delivered), and its connections are closed so the peer
 * learns of it at once rather than at its own timeout.
 */
export class TcpPeer implements PeerLink {
  /** Connections this rank accepted from the peer: this rank sends on them. */
  readonly sendConns: (FrameConnection | undefined)[];
  /** Connections this rank opened to the peer: it receives on them, in place. */
  readonly recvConns: (FrameConnection | undefined)[];
  private sendFailure: PlexusCollectivesError | undefined;
  private recvFailure: PlexusCollectivesError | undefined;
  private recvClosed = 0;
  private nextSendSeq = 0;
  private nextPostSeq = 0;
  private doneBase = 0;
  private readonly done = new Set<number>();
  private readonly incoming = new Map<number, Incoming>();
  private readonly complete = new Map<number, Incoming>();
  private readonly posted = new Map<number, PostedRecv>();
  private readonly sending = new Set<(error: PlexusCollectivesError) => void>();
  private attached = 0;
  private readonly readyWaiters: (() => void)[] = [];

  constructor(
    readonly rank: number,
    readonly myRank: number,
    connections: number,
    private readonly policy: StripePolicy,
  ) {
    this.sendConns = new Array(connections).fill(undefined);
    this.recvConns = new Array(connections).fill(undefined);
  }

  /** Every connection with the peer, both directions. */
  get conns(): (FrameConnection | undefined)[] {
    return [...this.sendConns, ...this.recvConns];
  }

  /** True once every connection is attached. */
  get ready(): boolean {
    return this.attached === 2 * this.sendConns.length;
  }

  /** Resolves once every connection is attached (or the peer failed). */
  whenReady(): Promise<void> {
    if (this.ready || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Frame handlers for the connections this rank receives on. */
  readonly handlers: FrameHandlers = {
    target: (h) => this.target(h.type, h.msgSeq, h.msgLength, h.offset, h.payloadLength),
    frame: (h) => this.frameDone(h.msgSeq, h.payloadLength),
  };

  /** Frame handlers for the connections this rank sends on: nothing may arrive there. */
  readonly sendOnlyHandlers: FrameHandlers = {
    target: (h) => `frame of type ${h.type} on a connection that only carries data the other way`,
    frame: () => undefined,
  };

  /** Why the peer failed (either direction), if it did. */
  get failure(): PlexusCollectivesError | undefined {
    return this.sendFailure ?? this.recvFailure;
  }

  /**
   * Takes connection `index` of one direction. A connection that ends with
   * an error (or mid-frame) fails the peer; one the peer closed cleanly ends
   * sending if it was a send connection, and the peer (both directions) once
   * every receive connection has closed, so data still in flight on the
   * others (a peer that sent its last message and left) is delivered first.
   */
  attach(direction: 'send' | 'recv', index: number, conn: FrameConnection): void {
    (direction === 'send' ? this.sendConns : this.recvConns)[index] = conn;
    this.attached++;
    conn.onClose((error) => {
      const wrapped = new PlexusCollectivesError(
        TCP_MODULE,
        error.code === 'timeout' ? 'timeout' : 'broken',
        `${direction} connection ${index} with rank ${this.rank} lost: ${error.message}`,
        { cause: error },
      );
      if (!conn.endedCleanly || !this.ready) this.fail(wrapped);
      else if (direction === 'send') this.failSend(wrapped);
      else if (++this.recvClosed === this.recvConns.length) {
        // The transport never half-closes: a peer whose every send connection
        // ended has left, so later sends fail now rather than vanish into a
        // socket it no longer reads.
        this.failRecv(wrapped);
        this.failSend(wrapped);
      }
    });
    if (this.ready) for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Fails the peer once: rejects what is pending and closes its connections. */
  fail(error: PlexusCollectivesError): void {
    this.failSend(error);
    this.failRecv(error);
    for (const c of this.conns)
      c?.end(error.message, error.code === 'timeout' ? 'timeout' : 'broken');
    for (const w of this.readyWaiters.splice(0)) w();
  }

  close(reason: PlexusCollectivesError): void {
    for (const c of this.conns) c?.end(reason.message, 'broken', false);
    this.fail(reason);
  }

  private failSend(error: PlexusCollectivesError): void {
    if (this.sendFailure) return;
    this.sendFailure = error;
    for (const reject of this.sending) reject(error);
    this.sending.clear();
  }

  private failRecv(error: PlexusCollectivesError): void {
    if (this.recvFailure) return;
    this.recvFailure = error;
    this.incoming.clear();
    for (const [seq, p] of this.posted) {
      clearTimeout(p.timer);
      this.posted.delete(seq);
      p.reject(error);
    }
  }

  private brokenError(what: string, cause: PlexusCollectivesError): PlexusCollectivesError {
    return peerOperationError(what, this.rank, cause);
  }

  send(bytes: Uint8Array, timeoutMs: number): Promise<void> {
    if (this.sendFailure) return Promise.reject(this.brokenError('send', this.sendFailure));
    const msgSeq = this.nextSendSeq;
    this.nextSendSeq = (this.nextSendSeq + 1) >>> 0;
    const k = this.sendConns.length;
    const total = bytes.byteLength;
    const writes: Promise<void>[] = [];
    const frame = this.policy.frameBytes;
    const writeRange = (conn: FrameConnection, start: number, end: number) => {
      let off = start;
      do {
        const n = Math.min(frame, end - off);
        writes.push(conn.write(FrameType.data, msgSeq, total, off, bytes.subarray(off, off + n)));
        off += n;
      } while (off < end);
    };
    if (k === 1 || total === 0 || total < this.policy.stripeMinBytes) {
      writeRange(this.sendConns[msgSeq % k]!, 0, total);
    } else {
      const stripe = Math.ceil(total / k / 4096) * 4096;
      for (let i = 0; i < k; i++) {
        const start = Math.min(total, i * stripe);
        const end = Math.min(total, start + stripe);
        if (end > start) writeRange(this.sendConns[i]!, start, end);
      }
    }
    return new Promise<void>((resolve, reject) => {
      const onFail = (error: PlexusCollectivesError) => {
        clearTimeout(timer);
        reject(error);
      };
      const timer = setTimeout(() => {
        this.sending.delete(onFail);
        this.fail(
          new PlexusCollectivesError(
            TCP_MODULE,
            'timeout',
            `send of ${total} bytes to rank ${this.rank} timed out after ${Math.round(timeoutMs)} ms`,
          ),
        );
        reject(this.brokenError('send', this.failure!));
      }, timeoutMs);
      this.sending.add(onFail);
      Promise.all(writes).then(
        () => {
          clearTimeout(timer);
          this.sending.delete(onFail);
          resolve();
        },
        () => {
          // The connection's end fails the peer, which rejects through onFail.
        },
      );
    });
  }

  recv(into: Uint8Array | undefined, timeoutMs: number): Promise<Uint8Array> {
    const msgSeq = this.nextPostSeq;
    this.nextPostSeq = (this.nextPostSeq + 1) >>> 0;
    const ready = this.complete.get(msgSeq);
    if (ready) {
      this.complete.delete(msgSeq);
      return this.settleNow(ready, into);
    }
    if (this.recvFailure) return Promise.reject(this.brokenError('recv', this.recvFailure));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.posted.delete(msgSeq);
        this.fail(
          new PlexusCollectivesError(
            TCP_MODULE,
            'timeout',
            `recv from rank ${this.rank} timed out after ${Math.round(timeoutMs)} ms`,
          ),
        );
        reject(this.brokenError('recv', this.failure!));
      }, timeoutMs);
      this.posted.set(msgSeq, { into, resolve, reject, timer });
    });
  }

  private settleNow(msg: Incoming, into: Uint8Array | undefined): Promise<Uint8Array> {
    return deliverMessage(this.rank, msg.buf, into);
  }

  private target(
    type: number,
    msgSeq: number,
    msgLength: number,
    offset: number,
    payloadLength: number,
  ): Uint8Array | string {
    if (type !== FrameType.data) return `unexpected frame type ${type} after the handshake`;
    if ((msgSeq - this.doneBase) >>> 0 >= WINDOW || this.done.has(msgSeq)) {
      return `message ${msgSeq} is finished or out of the window (replayed frame?)`;
    }
    if (msgLength > this.policy.maxMessageBytes) {
      return `message of ${msgLength} bytes exceeds the limit of ${this.policy.maxMessageBytes}`;
    }
    let inc = this.incoming.get(msgSeq);
    if (inc === undefined) {
      const p = this.posted.get(msgSeq);
      const fits = p?.into !== undefined && p.into.byteLength === msgLength;
      inc = {
        length: msgLength,
        buf: fits ? p!.into! : new Uint8Array(msgLength),
        received: 0,
      };
      this.incoming.set(msgSeq, inc);
    } else if (inc.length !== msgLength) {
      return `message ${msgSeq} announced ${msgLength} bytes after ${inc.length}`;
    }
    if (offset + payloadLength > msgLength || inc.received + payloadLength > msgLength) {
      return `frame [${offset}, ${offset + payloadLength}) overruns message ${msgSeq} of ${msgLength} bytes`;
    }
    return inc.buf.subarray(offset, offset + payloadLength);
  }

  private frameDone(msgSeq: number, payloadLength: number): string | undefined {
    const inc = this.incoming.get(msgSeq)!;
    inc.received += payloadLength;
    if (inc.received < inc.length) return undefined;
    this.incoming.delete(msgSeq);
    this.done.add(msgSeq);
    while (this.done.delete(this.doneBase)) this.doneBase = (this.doneBase + 1) >>> 0;
    const p = this.posted.get(msgSeq);
    if (p === undefined) {
      this.complete.set(msgSeq, inc);
      return undefined;
    }
    this.posted.delete(msgSeq);
    clearTimeout(p.timer);
    // The receive may have been posted after the first frames went to a staging buffer.
    this.settleNow(inc, p.into).then(p.resolve, p.reject);
    return undefined;
  }
}
