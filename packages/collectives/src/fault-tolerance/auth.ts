import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A shared secret as given in the options. */
export type Secret = string | Uint8Array;

/** A fresh challenge nonce (hex). */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Whether `v` has the shape of a `newNonce` nonce (32 lowercase hex digits). */
export function isNonce(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{32}$/.test(v);
}

/**
 * Who computes a proof. Distinct roles keep one side's answer from being
 * replayed as the other's, and one protocol's (fault-tolerance coordinator,
 * rendezvous store) from being replayed in another when they share a secret.
 */
export type ProofRole =
  | 'peer'
  | 'coordinator'
  | 'store-client'
  | 'store-server'
  | 'shm-connector'
  | 'shm-acceptor';

/**
 * HMAC-SHA256 of `role:nonce` under `secret` (hex). The role keeps the
 * coordinator's answer from being replayed as a peer's and the reverse.
 */
export function proof(secret: Secret, role: ProofRole, nonce: string): string {
  return createHmac('sha256', secret).update(`${role}:${nonce}`).digest('hex');
}

/** Constant-time check of a proof. */
export function proofMatches(
  secret: Secret,
  role: ProofRole,
  nonce: string,
  given: unknown,
): boolean {
  if (typeof given !== 'string') return false;
  const want = Buffer.from(proof(secret, role, nonce), 'hex');
  const got = Buffer.from(given, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
