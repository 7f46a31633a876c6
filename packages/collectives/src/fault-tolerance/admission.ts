import type { Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import {
  MAX_STORE_MESSAGE,
  type MessageSink,
  readMessagesInto,
  writeMessage,
} from '../store/wire.js';
import { isNonce, newNonce, proof, proofMatches, type Secret } from './auth.js';
import {
  type CoordinatorMessage,
  FT_MODULE,
  HELLO_MESSAGE_BYTES,
  MAX_NAME_LENGTH,
  type PeerMessage,
} from './protocol.js';

/** How the coordinator admits connections. */
export interface AdmissionSettings {
  /** With a secret, a `hello` must carry HMAC-SHA256(secret, `peer:` challenge nonce). */
  secret: Secret | undefined;
  /** Milliseconds from accepting the connection to a valid `hello`. */
  handshakeTimeoutMs: number;
  /** Told about every refused connection. */
  rejected: (error: PlexusCollectivesError) => void;
}

/** What a connection that passed the handshake gets. */
export interface AdmittedPeer {
  /** The coordinator's proof over the peer's nonce, for the welcome (with a secret). */
  proof: string | undefined;
  /** Delivers the peer's later messages (the full size limit applies from now on). */
  listen(onMessage: (msg: PeerMessage) => void, onBad: (reason: string) => void): void;
}

/**
 * Coordinator side of a new connection's handshake: sends the challenge
 * (a fresh nonce, and whether a secret is required), then reads at most
 * `HELLO_MESSAGE_BYTES` until a well-formed `hello` whose proof checks out in
 * constant time (`proofMatches`), within `handshakeTimeoutMs`. Then it calls
 * `admit`; otherwise it closes the connection (after a `refuse` telling an
 * honest peer why, when it sent something readable) and reports it to
 * `rejected`. Roles in the proofs (`peer`, `coordinator`) keep one side's
 * answer from being reflected as the other's.
 */
export function acceptPeer(
  socket: Socket,
  settings: AdmissionSettings,
  admit: (peer: AdmittedPeer) => void,
): void {
  const { secret, handshakeTimeoutMs } = settings;
  const nonce = newNonce();
  const who = `${socket.remoteAddress}:${socket.remotePort}`;
  let done = false;
  const refuse = (reason: string, tell: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    sink.onMessage = () => undefined;
    if (tell && !socket.destroyed) {
      writeMessage(socket, { id: 0, t: 'refuse', message: reason } satisfies CoordinatorMessage);
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    } else socket.destroy();
    settings.rejected(
      new PlexusCollectivesError(
        FT_MODULE,
        'broken',
        `refused the connection from ${who}: ${reason}`,
      ),
    );
  };
  const timer = setTimeout(
    () => refuse(`no hello within ${handshakeTimeoutMs} ms`, false),
    handshakeTimeoutMs,
  );
  socket.once('close', () => clearTimeout(timer));
  const hello = (msg: PeerMessage) => {
    if (msg.t !== 'hello') return refuse(`expected hello first, got ${String(msg.t)}`, true);
    if (!isNonce(msg.nonce) || typeof msg.name !== 'string' || msg.name.length > MAX_NAME_LENGTH) {
      return refuse('malformed hello', true);
    }
    if (secret !== undefined) {
      if (msg.proof === undefined) return refuse('no proof of the shared secret', true);
      if (!proofMatches(secret, 'peer', nonce, msg.proof)) {
        return refuse('wrong proof of the shared secret', true);
      }
    }
    done = true;
    clearTimeout(timer);
    admit({
      proof: secret === undefined ? undefined : proof(secret, 'coordinator', msg.nonce),
      listen(onMessage, onBad) {
        sink.maxBytes = MAX_STORE_MESSAGE;
        sink.onMessage = (m) => onMessage(m as unknown as PeerMessage);
        sink.bad = onBad;
      },
    });
  };
  const sink: MessageSink = {
    maxBytes: HELLO_MESSAGE_BYTES,
    onMessage: (raw) => hello(raw as unknown as PeerMessage),
    bad: (reason) => refuse(reason, false),
  };
  readMessagesInto(socket, sink);
  writeMessage(socket, {
    id: 0,
    t: 'challenge',
    nonce,
    auth: secret !== undefined,
  } satisfies CoordinatorMessage);
}
