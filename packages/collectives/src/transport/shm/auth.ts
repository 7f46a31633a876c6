// Mutual HMAC challenge on a shared-memory control connection, before its
// first Hello. Every message is a 16-byte control frame header followed by a
// fixed number of bytes, so a rank without a secret still parses the
// acceptor's Challenge as a frame and can say why it cannot go on.
import type { Socket } from 'node:net';
import { PlexusCollectivesError } from '../../errors.js';
import { newNonce, proof, proofMatches, type Secret } from '../../fault-tolerance/auth.js';
import { encodeFrame, FRAME_BYTES, FrameType, SHM_MODULE } from './control.js';

const NONCE_BYTES = 16;
const MAC_BYTES = 32;
/** The acceptor's challenge: header + nonce. */
const CHALLENGE_BYTES = FRAME_BYTES + NONCE_BYTES;
/**
 * The connector's answer, and all an acceptor reads from a connection before
 * it is authenticated: an honest connector sends nothing else until welcomed.
 */
export const SHM_PRE_AUTH_BYTES = FRAME_BYTES + NONCE_BYTES + MAC_BYTES;
const WELCOME_BYTES = FRAME_BYTES + MAC_BYTES;

/** What both ends of one control connection know. */
export interface ShmAuthContext {
  secret: Secret;
  /** The group's random id: a proof for another group is worthless here. */
  id: string;
  /** Rank of the accepting (lower) end. */
  acceptor: number;
  /** How long the exchange may take (ms). */
  timeoutMs: number;
}

/**
 * The text both proofs cover: the group, the acceptor and both nonces, so an
 * answer recorded on one connection is refused on any other (the acceptor's
 * nonce is new on each), and the acceptor's proof is fresh for the connector.
 */
function signed(ctx: ShmAuthContext, acceptorNonce: string, connectorNonce: string): string {
  return `${ctx.id}:${ctx.acceptor}:${acceptorNonce}:${connectorNonce}`;
}

function header(buf: Buffer): { type: number; length: number } {
  return { type: buf.readUInt8(0), length: buf.readUInt32LE(4) };
}

/**
 * Runs the exchange's byte collection: `step` sees everything received so
 * far and returns undefined to wait for more, or ends the exchange.
 * `finish` runs once, synchronously inside the `data` event that decided, so
 * the caller can attach the frame reader before the socket's next chunk.
 */
function exchange<R>(
  socket: Socket,
  timeoutMs: number,
  step: (received: Buffer) => R | undefined,
  onClose: () => R,
  onTimeout: () => R,
  finish: (result: R) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let done = false;
  const end = (result: R) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', closed);
    finish(result);
  };
  const onData = (chunk: Buffer) => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const result = step(received);
    if (result !== undefined) end(result);
  };
  const closed = () => end(onClose());
  const timer = setTimeout(() => end(onTimeout()), timeoutMs);
  socket.on('error', () => {});
  socket.on('data', onData);
  socket.on('close', closed);
}

/**
 * Acceptor side: sends a nonce, reads exactly the connector's answer (at most
 * `SHM_PRE_AUTH_BYTES`), checks its HMAC (role `shm-connector`, constant
 * time) and answers with its own (role `shm-acceptor`). `done` gets undefined
 * once the connector is authenticated, else why it was refused; a refused
 * socket is sent a Refuse frame and closed, and nothing else is disturbed.
 */
export function acceptShmAuth(
  socket: Socket,
  ctx: ShmAuthContext,
  done: (refusal: string | undefined) => void,
): void {
  const nonce = newNonce();
  const refuse = (reason: string): string => {
    if (!socket.destroyed) socket.end(encodeFrame(FrameType.Refuse, 0, 0, ctx.acceptor));
    // A stranger that never reads must not hold the socket open.
    setTimeout(() => socket.destroy(), 1_000).unref();
    return reason;
  };
  exchange<string | null>(
    socket,
    ctx.timeoutMs,
    (received) => {
      if (received.length >= FRAME_BYTES) {
        const h = header(received);
        if (h.type !== FrameType.Answer || h.length !== NONCE_BYTES + MAC_BYTES) {
          return refuse(
            `expected an answer to the challenge (frame type ${FrameType.Answer}), got frame type ${h.type} of length ${h.length}`,
          );
        }
      }
      if (received.length > SHM_PRE_AUTH_BYTES) {
        return refuse(
          `sent ${received.length} bytes before being authenticated, at most ${SHM_PRE_AUTH_BYTES} are accepted`,
        );
      }
      if (received.length < SHM_PRE_AUTH_BYTES) return undefined;
      const theirs = received.subarray(FRAME_BYTES, FRAME_BYTES + NONCE_BYTES).toString('hex');
      const mac = received.subarray(FRAME_BYTES + NONCE_BYTES).toString('hex');
      const text = signed(ctx, nonce, theirs);
      if (!proofMatches(ctx.secret, 'shm-connector', text, mac)) {
        return refuse('authentication failed (wrong or missing shared secret?)');
      }
      socket.write(
        Buffer.concat([
          encodeFrame(FrameType.Welcome, 0, MAC_BYTES, ctx.acceptor),
          Buffer.from(proof(ctx.secret, 'shm-acceptor', text), 'hex'),
        ]),
      );
      return null;
    },
    () => 'closed the connection before authenticating',
    () => {
      socket.destroy();
      return `did not authenticate within ${ctx.timeoutMs} ms`;
    },
    (result) => done(result ?? undefined),
  );
  socket.write(
    Buffer.concat([
      encodeFrame(FrameType.Challenge, 0, NONCE_BYTES, ctx.acceptor),
      Buffer.from(nonce, 'hex'),
    ]),
  );
}

/**
 * Connector side: answers the acceptor's challenge with an HMAC over both
 * nonces and checks the acceptor's proof back. `done` gets a typed `broken`
 * error saying authentication failed (the socket is destroyed), or the bytes
 * that followed the Welcome (the acceptor's first control frames).
 */
export function connectShmAuth(
  socket: Socket,
  ctx: ShmAuthContext,
  connector: number,
  done: (result: PlexusCollectivesError | Buffer) => void,
): void {
  const fail = (why: string) => {
    socket.destroy();
    return new PlexusCollectivesError(
      SHM_MODULE,
      'broken',
      `rank ${connector}: authentication with rank ${ctx.acceptor} failed: ${why}`,
    );
  };
  const mine = newNonce();
  let text: string | undefined;
  exchange<PlexusCollectivesError | Buffer>(
    socket,
    ctx.timeoutMs,
    (received) => {
      if (received.length < FRAME_BYTES) return undefined;
      const h = header(received);
      if (text === undefined) {
        if (h.type !== FrameType.Challenge || h.length !== NONCE_BYTES) {
          return fail(
            h.type === FrameType.Hello
              ? 'it sent no challenge: it has no shared secret, and this rank has one (set the same secret on every rank)'
              : `expected a challenge, got frame type ${h.type}`,
          );
        }
        if (received.length < CHALLENGE_BYTES) return undefined;
        // The acceptor sends nothing more until it has the answer.
        if (received.length > CHALLENGE_BYTES) return fail('it sent bytes after its challenge');
        const theirs = received.subarray(FRAME_BYTES).toString('hex');
        text = signed(ctx, theirs, mine);
        socket.write(
          Buffer.concat([
            encodeFrame(FrameType.Answer, 0, NONCE_BYTES + MAC_BYTES, connector),
            Buffer.from(mine, 'hex'),
            Buffer.from(proof(ctx.secret, 'shm-connector', text), 'hex'),
          ]),
        );
        return undefined;
      }
      const reply = received.subarray(CHALLENGE_BYTES);
      if (reply.length < FRAME_BYTES) return undefined;
      const r = header(reply);
      if (r.type === FrameType.Refuse) {
        return fail('it refused this rank (wrong or missing shared secret?)');
      }
      if (r.type !== FrameType.Welcome || r.length !== MAC_BYTES) {
        return fail(`expected a welcome or a refusal, got frame type ${r.type}`);
      }
      if (reply.length < WELCOME_BYTES) return undefined;
      const mac = reply.subarray(FRAME_BYTES, WELCOME_BYTES).toString('hex');
      if (!proofMatches(ctx.secret, 'shm-acceptor', text, mac)) {
        return fail('its proof does not match (wrong shared secret?)');
      }
      return Buffer.from(reply.subarray(WELCOME_BYTES));
    },
    () =>
      new PlexusCollectivesError(
        SHM_MODULE,
        'broken',
        `rank ${connector}: rank ${ctx.acceptor} closed the control connection during authentication`,
      ),
    () => {
      socket.destroy();
      return new PlexusCollectivesError(
        SHM_MODULE,
        'timeout',
        `rank ${connector}: authentication with rank ${ctx.acceptor} did not finish within ${ctx.timeoutMs} ms`,
      );
    },
    done,
  );
}
