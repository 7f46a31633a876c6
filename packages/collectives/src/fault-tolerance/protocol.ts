/**
 * Messages between the fault-tolerance coordinator and its peers, sent as
 * length-prefixed JSON (the built-in store's wire format). The design follows
 * "Prime Collective Communications Library — Technical Report" (PCCL, 2025):
 * every operation is a round that all current members vote for; the
 * coordinator starts it (`go`) only once every member has voted, and its
 * single verdict (`outcome`) is what every member returns, so an operation
 * either commits on the agreed membership or fails on every survivor.
 */

/** Module name in this directory's error messages. */
export const FT_MODULE = 'fault-tolerance';

/** Longest peer name (characters) a `hello` may carry. */
export const MAX_NAME_LENGTH = 256;

/**
 * Largest message the coordinator reads before a connection has said a
 * valid `hello`: that message is under 2 KiB even with the longest name
 * fully escaped, so a stranger cannot make the coordinator buffer more.
 */
export const HELLO_MESSAGE_BYTES = 2048;

/** What a round does. */
export type RoundKind = 'topology' | 'allReduce' | 'allToAll' | 'sync';

/** One key of a shared-state vote: element type, length and sha256 of the bytes. */
export type KeyDigest = {
  dtype: string;
  length: number;
  hash: string;
};

/** A peer's shared state as it votes: per-key digests and the hash over all of them. */
export type StateDigest = {
  total: string;
  keys: Record<string, KeyDigest>;
};

/** One transfer of a state synchronisation: `from` sends `keys` to `to` (ranks of the epoch). */
export type Transfer = {
  from: number;
  to: number;
  keys: string[];
};

/** Peer to coordinator. */
export type PeerMessage =
  | { id: number; t: 'hello'; name: string; nonce: string; proof?: string }
  | { id: number; t: 'hb' }
  | { id: number; t: 'vote'; ticket: number; kind: RoundKind; sig: string; state?: StateDigest }
  | { id: number; t: 'withdraw'; ticket: number }
  | { id: number; t: 'done'; round: number; ok: boolean; reason?: string }
  | { id: number; t: 'leave' };

/** The membership of one epoch: peer ids in rank order. */
export type Membership = {
  epoch: number;
  members: number[];
};

/** Coordinator to peer. */
export type CoordinatorMessage =
  | {
      id: number;
      t: 'challenge';
      nonce: string;
      /** Whether the coordinator has a secret, so a peer with one can refuse a coordinator without. */
      auth: boolean;
    }
  /** Sent before closing a connection that failed the handshake, so an honest peer learns why. */
  | { id: number; t: 'refuse'; message: string }
  | {
      id: number;
      t: 'welcome';
      peerId: number;
      /** HMAC of the peer's nonce, when the run has a secret. */
      proof?: string;
      runId: string;
      storePort: number;
      heartbeatMs: number;
      heartbeatTimeoutMs: number;
    }
  | ({ id: number; t: 'admitted'; revision: number } & Membership)
  | ({ id: number; t: 'epoch' } & Membership)
  | ({
      id: number;
      t: 'go';
      ticket: number;
      round: number;
      kind: RoundKind;
      revision: number;
      joined: number[];
      sync?: { elected: StateDigest; transfers: Transfer[] };
    } & Membership)
  | { id: number; t: 'reject'; ticket: number; code: 'mismatch' | 'broken'; message: string }
  | {
      id: number;
      t: 'outcome';
      round: number;
      committed: boolean;
      reason: string;
      revision: number;
    };
