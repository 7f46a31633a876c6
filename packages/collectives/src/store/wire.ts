import type { Socket } from 'node:net';

/** Largest store message (64 MiB): the store is for rendezvous and small state. */
export const MAX_STORE_MESSAGE = 64 << 20;

/** A store request or response: JSON, values as base64. */
export type StoreMessage = Record<string, unknown> & { id: number };

/** Writes one length-prefixed JSON message. */
export function writeMessage(socket: Socket, msg: StoreMessage): void {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  socket.write(Buffer.concat([head, body]));
}

/**
 * Splits a socket's bytes into length-prefixed JSON messages. Calls `bad`
 * (and stops) on an oversized or unparsable message.
 */
export function readMessages(
  socket: Socket,
  onMessage: (msg: StoreMessage) => void,
  bad: (reason: string) => void,
): void {
  let pending: Buffer = Buffer.alloc(0);
  let stopped = false;
  socket.on('data', (chunk: Buffer) => {
    if (stopped) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readUInt32LE(0);
      if (n > MAX_STORE_MESSAGE) {
        stopped = true;
        return bad(`message of ${n} bytes exceeds ${MAX_STORE_MESSAGE}`);
      }
      if (pending.length < 4 + n) return;
      const body = pending.subarray(4, 4 + n);
      pending = pending.subarray(4 + n);
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch {
        stopped = true;
        return bad('malformed message');
      }
      if (typeof msg !== 'object' || msg === null || typeof (msg as StoreMessage).id !== 'number') {
        stopped = true;
        return bad('message without an id');
      }
      onMessage(msg as StoreMessage);
    }
  });
}
