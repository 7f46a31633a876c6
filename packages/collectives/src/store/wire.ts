import type { Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';

/** Default largest store message (64 MiB): the store is for rendezvous and small state. */
export const MAX_STORE_MESSAGE = 64 << 20;

/**
 * Largest message before a connection has authenticated: the handshake
 * messages are under 300 bytes, so a stranger cannot make the server buffer
 * more than this.
 */
export const HANDSHAKE_MESSAGE_BYTES = 1024;

/** The `maxMessageBytes` option of the store's client and server, checked (default `MAX_STORE_MESSAGE`). */
export function checkMaxMessageBytes(module: string, value: number | undefined): number {
  const bytes = value ?? MAX_STORE_MESSAGE;
  if (!Number.isInteger(bytes) || bytes < HANDSHAKE_MESSAGE_BYTES) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected maxMessageBytes to be an integer >= ${HANDSHAKE_MESSAGE_BYTES}, got ${String(bytes)}`,
    );
  }
  return bytes;
}

/** A store request or response: JSON, values as base64. */
export type StoreMessage = Record<string, unknown> & { id: number };

/** Encodes one length-prefixed JSON message. */
export function encodeMessage(msg: StoreMessage): Buffer {
  const body = Buffer.from(JSON.stringify(msg));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Writes one length-prefixed JSON message. */
export function writeMessage(socket: Socket, msg: StoreMessage): void {
  socket.write(encodeMessage(msg));
}

/**
 * Where `readMessages` delivers. Its fields are read for every message, so
 * a connection can swap handlers and raise `maxBytes` once it has
 * authenticated, between two messages of the same chunk.
 */
export interface MessageSink {
  /** Largest accepted message body in bytes. */
  maxBytes: number;
  onMessage(msg: StoreMessage): void;
  /** Called once (reading then stops) on an oversized or unparsable message. */
  bad(reason: string): void;
}

/**
 * Splits a socket's bytes into length-prefixed JSON messages of at most
 * `MAX_STORE_MESSAGE` bytes. Calls `bad` (and stops) on an oversized or
 * unparsable message.
 */
export function readMessages(
  socket: Socket,
  onMessage: (msg: StoreMessage) => void,
  bad: (reason: string) => void,
): void {
  readMessagesInto(socket, { maxBytes: MAX_STORE_MESSAGE, onMessage, bad });
}

/**
 * Splits a socket's bytes into length-prefixed JSON messages. Stops at the
 * first oversized or unparsable message, or one that is not an object with
 * an integer `id`, and calls `sink.bad`; a truncated message is simply never
 * delivered.
 */
export function readMessagesInto(socket: Socket, sink: MessageSink): void {
  let pending: Buffer = Buffer.alloc(0);
  let stopped = false;
  const stop = (reason: string) => {
    stopped = true;
    pending = Buffer.alloc(0);
    sink.bad(reason);
  };
  socket.on('data', (chunk: Buffer) => {
    if (stopped) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (!stopped && pending.length >= 4) {
      const n = pending.readUInt32LE(0);
      if (n > sink.maxBytes) return stop(`message of ${n} bytes exceeds ${sink.maxBytes}`);
      if (pending.length < 4 + n) return;
      const body = pending.subarray(4, 4 + n);
      pending = pending.subarray(4 + n);
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch {
        return stop('malformed message');
      }
      if (
        typeof msg !== 'object' ||
        msg === null ||
        Array.isArray(msg) ||
        !Number.isSafeInteger((msg as StoreMessage).id)
      ) {
        return stop('message without an integer id');
      }
      sink.onMessage(msg as StoreMessage);
    }
  });
}
