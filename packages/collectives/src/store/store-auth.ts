import { PlexusCollectivesError } from '../errors.js';
import { newNonce, proof, proofMatches, type Secret } from '../fault-tolerance/auth.js';
import type { StoreMessage } from './wire.js';

const MODULE = 'tcp-store';

/** Version of the store handshake, in the server's greeting. */
export const STORE_PROTOCOL_VERSION = 1;

/** Id of handshake messages; requests start at 1. */
export const HANDSHAKE_ID = 0;

const NONCE = /^[0-9a-f]{32}$/;

/**
 * What both proofs cover: the server's and the client's nonce. The server's
 * nonce makes a recorded client answer useless on a new connection, the
 * client's a recorded server proof; the role (`store-client` or
 * `store-server`, see `proof`) keeps either from being reflected back.
 */
const transcript = (serverNonce: string, clientNonce: string) => `${serverNonce}:${clientNonce}`;

/** Checks a secret given in options; the empty string is refused rather than taken as "no secret". */
export function checkSecret(secret: unknown): Secret | undefined {
  if (secret === undefined) return undefined;
  if ((typeof secret === 'string' || secret instanceof Uint8Array) && secret.length > 0) {
    return secret;
  }
  throw new PlexusCollectivesError(
    MODULE,
    'invalid-argument',
    'expected secret to be a non-empty string or Uint8Array (or left out for no authentication)',
  );
}

/** The server's first message: the protocol version and, with a secret, a fresh challenge. */
export function greeting(secret: Secret | undefined): { msg: StoreMessage; nonce?: string } {
  if (secret === undefined) {
    return { msg: { id: HANDSHAKE_ID, op: 'hello', version: STORE_PROTOCOL_VERSION } };
  }
  const nonce = newNonce();
  return {
    msg: { id: HANDSHAKE_ID, op: 'hello', version: STORE_PROTOCOL_VERSION, nonce },
    nonce,
  };
}

/**
 * Server side: checks the client's answer to `serverNonce` in constant time
 * (`proofMatches`). Returns the welcome carrying the server's own proof, or
 * why the client is refused.
 */
export function checkAnswer(
  secret: Secret,
  serverNonce: string,
  msg: StoreMessage,
): { welcome: StoreMessage } | { refuse: string } {
  if (msg.op !== 'auth' || msg.id !== HANDSHAKE_ID) {
    return { refuse: `expected the authentication answer first, got ${String(msg.op)}` };
  }
  const clientNonce = msg.nonce;
  if (typeof clientNonce !== 'string' || !NONCE.test(clientNonce)) {
    return { refuse: 'malformed client nonce' };
  }
  const t = transcript(serverNonce, clientNonce);
  if (!proofMatches(secret, 'store-client', t, msg.proof)) {
    return { refuse: 'wrong proof of the shared secret' };
  }
  return { welcome: { id: HANDSHAKE_ID, op: 'welcome', proof: proof(secret, 'store-server', t) } };
}

/** The typed error of every authentication failure seen by a client. */
export function authError(where: string, why: string): PlexusCollectivesError {
  return new PlexusCollectivesError(
    MODULE,
    'broken',
    `authentication failed with the store at ${where}: ${why}`,
  );
}

/**
 * Client side, on the server's greeting: the answer to send (none when
 * neither side has a secret) and a check of the server's welcome. Throws
 * the typed authentication error when only one side has a secret: a client
 * with a secret does not trust a server that cannot prove it.
 */
export function answerGreeting(
  secret: Secret | undefined,
  msg: StoreMessage,
  where: string,
): { answer?: StoreMessage; checkWelcome?: (welcome: StoreMessage) => void } {
  if (msg.op !== 'hello' || msg.id !== HANDSHAKE_ID) {
    throw authError(where, `expected the store's greeting, got ${String(msg.op)}`);
  }
  if (msg.version !== STORE_PROTOCOL_VERSION) {
    throw authError(
      where,
      `store protocol version ${String(msg.version)}, this client speaks ${STORE_PROTOCOL_VERSION}`,
    );
  }
  const serverNonce = msg.nonce;
  if (serverNonce === undefined) {
    if (secret === undefined) return {};
    throw authError(
      where,
      'this client has a shared secret but the store was started without one, so it cannot prove itself',
    );
  }
  if (typeof serverNonce !== 'string' || !NONCE.test(serverNonce)) {
    throw authError(where, 'malformed challenge');
  }
  if (secret === undefined) {
    throw authError(
      where,
      'the store requires a shared secret and none was given (option secret, or PLEXUS_COLLECTIVES_SECRET)',
    );
  }
  const clientNonce = newNonce();
  const t = transcript(serverNonce, clientNonce);
  return {
    answer: {
      id: HANDSHAKE_ID,
      op: 'auth',
      nonce: clientNonce,
      proof: proof(secret, 'store-client', t),
    },
    checkWelcome: (welcome) => {
      if (welcome.op === 'refuse') {
        throw authError(
          where,
          `the store refused this client (${String(welcome.message).slice(0, 200)}); wrong shared secret?`,
        );
      }
      if (welcome.op !== 'welcome' || !proofMatches(secret, 'store-server', t, welcome.proof)) {
        throw authError(where, 'the store did not prove the shared secret (wrong secret?)');
      }
    },
  };
}
