import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { PlexusCollectivesError } from '../../errors.js';
import { FrameConnection, type FrameHandlers, TCP_MODULE } from './connection.js';
import type { FrameHeader } from './frame.js';
import { FrameType } from './frame.js';

/** Frame limit before a connection is authenticated: handshake frames are tiny. */
const HANDSHAKE_FRAME_BYTES = 256;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const HELLO_BYTES = 12 + NONCE_BYTES + MAC_BYTES;

/** Who a connector claims to be. */
export interface HelloFields {
  rank: number;
  worldSize: number;
  connIndex: number;
}

function mac(secret: Uint8Array | undefined, ...parts: Uint8Array[]): Uint8Array {
  if (secret === undefined) return new Uint8Array(MAC_BYTES);
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

const HELLO_TAG = Buffer.from('plexus-collectives/hello/v1');
const WELCOME_TAG = Buffer.from('plexus-collectives/welcome/v1');

/** What to do with the one frame a handshake step waits for. */
type StepResult =
  | { next: FrameHandlers; maxFrameBytes?: number; checksum?: boolean }
  | { refuse: string };

const REFUSE_ALL: FrameHandlers = {
  target: () => 'frame before the handshake step that allows it',
  frame: () => undefined,
};

/**
 * Reads exactly one handshake frame of one of `types` and decides on it
 * synchronously in `step`, so the handlers for what follows are in place
 * before the socket's next bytes are parsed (they may be in the same chunk).
 */
function expectFrame(
  conn: FrameConnection,
  types: number[],
  timeoutMs: number,
  step: (header: FrameHeader, payload: Uint8Array) => StepResult,
): Promise<{ header: FrameHeader; payload: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => conn.end(`${conn.label}: handshake timed out after ${timeoutMs} ms`, 'timeout'),
      timeoutMs,
    );
    conn.onClose((error) => {
      clearTimeout(timer);
      reject(error);
    });
    conn.handlers = {
      target: (h) => {
        if (!types.includes(h.type)) return `unexpected frame type ${h.type} during the handshake`;
        return new Uint8Array(h.payloadLength);
      },
      frame: (header, payload) => {
        clearTimeout(timer);
        const result = step(header, payload);
        if ('refuse' in result) return result.refuse;
        conn.handlers = result.next;
        if (result.maxFrameBytes !== undefined) conn.maxFrameBytes = result.maxFrameBytes;
        if (result.checksum !== undefined) conn.checksum = result.checksum;
        resolve({ header, payload });
        return undefined;
      },
    };
  });
}

/**
 * Connector side of the handshake (HMAC challenge-response, both ways when
 * a secret is set): waits for the acceptor's nonce, proves knowledge of the
 * secret over it and its own claims, and checks the acceptor's proof over
 * the connector's nonce, so neither side accepts a replayed handshake. Once
 * accepted, `data` handles the frames and the limit becomes `maxFrameBytes`;
 * `onWelcome` runs synchronously on acceptance, before anything after the
 * welcome frame is read.
 */
export async function connectHandshake(
  socket: Socket,
  label: string,
  hello: HelloFields,
  expectedRank: number,
  secret: Uint8Array | undefined,
  timeoutMs: number,
  data: FrameHandlers,
  maxFrameBytes: number,
  bind?: (conn: FrameConnection) => void,
  checksum = true,
  onWelcome?: (conn: FrameConnection) => void,
): Promise<FrameConnection> {
  const conn = new FrameConnection(socket, label, HANDSHAKE_FRAME_BYTES, REFUSE_ALL);
  bind?.(conn);
  const challenge = await expectFrame(conn, [FrameType.challenge], timeoutMs, (_h, payload) =>
    payload.byteLength === NONCE_BYTES ? { next: REFUSE_ALL } : { refuse: 'malformed challenge' },
  );
  const body = Buffer.alloc(HELLO_BYTES);
  body.writeUInt32LE(hello.rank, 0);
  body.writeUInt32LE(hello.worldSize, 4);
  body.writeUInt32LE(hello.connIndex, 8);
  const myNonce = randomBytes(NONCE_BYTES);
  myNonce.copy(body, 12);
  Buffer.from(mac(secret, HELLO_TAG, challenge.payload, body.subarray(0, 12 + NONCE_BYTES))).copy(
    body,
    12 + NONCE_BYTES,
  );
  const rankBytes = Buffer.alloc(4);
  rankBytes.writeUInt32LE(expectedRank, 0);
  const want = mac(secret, WELCOME_TAG, myNonce, rankBytes);
  let refusedBecause: string | undefined;
  const reply = expectFrame(
    conn,
    [FrameType.welcome, FrameType.reject],
    timeoutMs,
    (header, payload) => {
      if (header.type === FrameType.reject) {
        refusedBecause = Buffer.from(payload).toString('utf8').slice(0, 200);
        return { refuse: `rank ${expectedRank} refused the connection: ${refusedBecause}` };
      }
      // A peer without the secret cannot produce this MAC.
      if (payload.byteLength !== MAC_BYTES || !macEqual(payload, want)) {
        return {
          refuse: `rank ${expectedRank} failed authentication (wrong shared secret?)`,
        };
      }
      // Synchronously, before the socket reads past the welcome (a hand-over
      // to the native data path must find the next frame still unread).
      onWelcome?.(conn);
      return { next: data, maxFrameBytes, checksum };
    },
  );
  await conn.write(FrameType.hello, 0, 0, 0, body);
  await reply;
  return conn;
}

/**
 * Acceptor side: sends a nonce, checks the connector's HMAC and its claims
 * with `admit` (which returns the data handlers, or a refusal reason), and
 * answers with its own HMAC. Resolves with the claims; rejects with a typed
 * error (the socket is then closed) on any failure.
 */
export async function acceptHandshake(
  socket: Socket,
  label: string,
  myRank: number,
  secret: Uint8Array | undefined,
  timeoutMs: number,
  maxFrameBytes: number,
  admit: (hello: HelloFields, conn: FrameConnection) => FrameHandlers | string,
  checksum = true,
): Promise<{ conn: FrameConnection; hello: HelloFields }> {
  const conn = new FrameConnection(socket, label, HANDSHAKE_FRAME_BYTES, REFUSE_ALL);
  const nonce = randomBytes(NONCE_BYTES);
  const rankBytes = Buffer.alloc(4);
  rankBytes.writeUInt32LE(myRank, 0);
  let hello: HelloFields | undefined;
  let refusal: string | undefined;
  let welcome: Uint8Array | undefined;
  const helloFrame = expectFrame(conn, [FrameType.hello], timeoutMs, (_h, payload) => {
    if (payload.byteLength !== HELLO_BYTES) refusal = 'malformed hello';
    else {
      const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      const claimed = body.subarray(12 + NONCE_BYTES);
      const signed = body.subarray(0, 12 + NONCE_BYTES);
      if (!macEqual(claimed, mac(secret, HELLO_TAG, nonce, signed))) {
        refusal = 'authentication failed (wrong shared secret?)';
      } else {
        hello = {
          rank: body.readUInt32LE(0),
          worldSize: body.readUInt32LE(4),
          connIndex: body.readUInt32LE(8),
        };
        const admitted = admit(hello, conn);
        if (typeof admitted === 'string') refusal = admitted;
        else {
          welcome = mac(secret, WELCOME_TAG, body.subarray(12, 12 + NONCE_BYTES), rankBytes);
          return { next: admitted, maxFrameBytes, checksum };
        }
      }
    }
    // Answer the refusal before closing, so an honest peer learns why.
    return { next: REFUSE_ALL };
  });
  conn.write(FrameType.challenge, 0, 0, 0, nonce).catch(() => undefined);
  await helloFrame;
  if (refusal !== undefined || hello === undefined || welcome === undefined) {
    const reason = refusal ?? 'malformed hello';
    await conn.write(FrameType.reject, 0, 0, 0, Buffer.from(reason)).catch(() => undefined);
    conn.end(`${label}: refused: ${reason}`, 'broken', false);
    throw new PlexusCollectivesError(TCP_MODULE, 'broken', `${label}: refused: ${reason}`);
  }
  await conn.write(FrameType.welcome, 0, 0, 0, welcome);
  return { conn, hello };
}
