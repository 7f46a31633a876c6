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
export class TcpPeer {
  readonly conns: (FrameConnection | undefined)[];
  failure: PlexusCollectivesError | undefined;
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
    this.conns = new Array(connections).fill(undefined);
  }

  /** True once every connection is attached. */
  get ready(): boolean {
    return this.attached === this.conns.length;
  }

  /** Resolves once every connection is attached (or the peer failed). */
  whenReady(): Promise<void> {
    if (this.ready || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Frame handlers for this peer's data connections. */
  readonly handlers: FrameHandlers = {
    target: (h) => this.target(h.type, h.msgSeq, h.msgLength, h.offset, h.payloadLength),
    frame: (h) => this.frameDone(h.msgSeq, h.payloadLength),
  };

  /** Takes connection `index`; a connection that ends fails the peer. */
  attach(index: number, conn: FrameConnection): void {
    this.conns[index] = conn;
    this.attached++;
    conn.onClose((error) =>
      this.fail(
        new PlexusCollectivesError(
          TCP_MODULE,
          error.code === 'timeout' ? 'timeout' : 'broken',
          `connection ${index} with rank ${this.rank} lost: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    if (this.ready) for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Fails the peer once: rejects what is pending and closes its connections. */
  fail(error: PlexusCollectivesError): void {
    if (this.failure) return;
    this.failure = error;
    for (const [seq, p] of this.posted) {
      if (this.complete.has(seq)) continue;
      clearTimeout(p.timer);
      this.posted.delete(seq);
      p.reject(error);
    }
    for (const reject of this.sending) reject(error);
    this.sending.clear();
    for (const c of this.conns)
      c?.end(error.message, error.code === 'timeout' ? 'timeout' : 'broken');
    for (const w of this.readyWaiters.splice(0)) w();
  }

  private brokenError(what: string): PlexusCollectivesError {
    return new PlexusCollectivesError(
      TCP_MODULE,
      this.failure!.code === 'timeout' ? 'timeout' : 'broken',
      `${what} with rank ${this.rank}: ${this.failure!.message}`,
      { cause: this.failure },
    );
  }

  send(bytes: Uint8Array, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.brokenError('send'));
    const msgSeq = this.nextSendSeq;
    this.nextSendSeq = (this.nextSendSeq + 1) >>> 0;
    const k = this.conns.length;
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
    if (k === 1 || total < this.policy.stripeMinBytes) {
      writeRange(this.conns[msgSeq % k]!, 0, total);
    } else {
      const stripe = Math.ceil(total / k / 4096) * 4096;
      for (let i = 0; i < k; i++) {
        const start = Math.min(total, i * stripe);
        const end = Math.min(total, start + stripe);
        if (end > start) writeRange(this.conns[i]!, start, end);
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
        reject(this.brokenError('send'));
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
    if (this.failure) return Promise.reject(this.brokenError('recv'));
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
        reject(this.brokenError('recv'));
      }, timeoutMs);
      this.posted.set(msgSeq, { into, resolve, reject, timer });
    });
  }

  private settleNow(msg: Incoming, into: Uint8Array | undefined): Promise<Uint8Array> {
    if (into === undefined) return Promise.resolve(msg.buf);
    if (into.byteLength !== msg.length) return Promise.reject(this.mismatch(msg.length, into));
    if (into !== msg.buf) into.set(msg.buf);
    return Promise.resolve(into);
  }

  private mismatch(length: number, into: Uint8Array): PlexusCollectivesError {
    return new PlexusCollectivesError(
      TCP_MODULE,
      'mismatch',
      `rank ${this.rank} sent ${length} bytes but ${into.byteLength} were expected`,
    );
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
