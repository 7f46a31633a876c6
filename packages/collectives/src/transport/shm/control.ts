import { connect, createServer, type Server, type Socket } from 'node:net';

/** Module name of the shared-memory transport's errors. */
export const SHM_MODULE = 'shm-transport';

/** Kinds of control frame; none of them carries payload bytes. */
export const FrameType = {
  /** First frame on a connection: `value` is the sender's rank. */
  Hello: 1,
  /** The receiver has opened the sender's segment (the sender may unlink it). */
  Ready: 2,
  /** Slot `slot` of the sender's segment holds `length` bytes of a message of `value` bytes. */
  Full: 3,
  /** The receiver has copied slot `slot` of the peer's segment out: it may be reused. */
  Free: 4,
  /** With a secret, the acceptor's first frame: `length` nonce bytes follow, `value` is its rank. */
  Challenge: 5,
  /** The connector's reply to a challenge: its nonce and its HMAC follow (`length` bytes). */
  Answer: 6,
  /** The acceptor accepted the answer: its own HMAC follows (`length` bytes). */
  Welcome: 7,
  /** The acceptor refused the answer and closes the connection. */
  Refuse: 8,
} as const;

/** One of `FrameType`'s values. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** One decoded control frame. */
export interface ControlFrame {
  type: FrameType;
  slot: number;
  length: number;
  value: number;
}

/** Size of every control frame in bytes. */
export const FRAME_BYTES = 16;

/** Encodes a 16-byte control frame: type u8, slot u8, 2 reserved, length u32, value f64. */
export function encodeFrame(type: FrameType, slot: number, length: number, value: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_BYTES);
  b.writeUInt8(type, 0);
  b.writeUInt8(slot, 1);
  b.writeUInt16LE(0, 2);
  b.writeUInt32LE(length, 4);
  b.writeDoubleLE(value, 8);
  return b;
}

/**
 * Splits a socket's byte stream into control frames; calls `onFrame` for
 * each. Returns the `data` listener to attach.
 */
export function frameReader(onFrame: (frame: ControlFrame) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= FRAME_BYTES) {
      onFrame({
        type: pending.readUInt8(at) as FrameType,
        slot: pending.readUInt8(at + 1),
        length: pending.readUInt32LE(at + 4),
        value: pending.readDoubleLE(at + 8),
      });
      at += FRAME_BYTES;
    }
    pending = pending.subarray(at);
  };
}

/**
 * Where rank `rank` of group `id` listens for control connections: a Linux
 * abstract Unix-domain socket (no file to clean up), else a socket file in
 * `dir`.
 */
export function controlPath(dir: string, id: string, rank: number): string {
  return process.platform === 'linux'
    ? `\0plexus-shm-${id}-${rank}`
    : `${dir}/plexus-shm-${id}-${rank}.sock`;
}

/** Starts listening on `path`; `onSocket` gets every accepted connection. */
export function listenControl(path: string, onSocket: (s: Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onSocket);
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Connects to `path`, retrying every 20 ms while the listener is not up yet, until `deadline`. */
export async function connectControl(path: string, deadline: number): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
