import type { TcpTransportOptions } from '../transport/tcp/tcp-transport.js';
import type { RoundKind } from './protocol.js';

/** Something the group went through, for logging and tests. */
export type FaultToleranceEvent =
  | { type: 'admitted'; epoch: number; members: number[] }
  | { type: 'epoch'; epoch: number; members: number[] }
  | { type: 'round-start'; kind: RoundKind; round: number; epoch: number }
  | { type: 'round-end'; kind: RoundKind; round: number; epoch: number; committed: boolean };

/** Options for `createFaultTolerantGroup`. */
export interface FaultTolerantGroupOptions {
  /** Coordinator address (`startCoordinator`). */
  host: string;
  port: number;
  /** Sent to the coordinator in this peer's hello (at most 256 characters). */
  name?: string;
  /** Default per-call timeout in ms (default 30 000); `join` waits as long for admission. */
  timeoutMs?: number;
  /**
   * Shared secret of the run (default: `tcp.secret`, else
   * `PLEXUS_COLLECTIVES_SECRET` from `env`): proves this peer to the
   * coordinator and the coordinator to it (HMAC-SHA256 challenge-response),
   * authenticates the connection to the coordinator's rendezvous store the
   * same way, and the per-epoch TCP connections between peers (unless
   * `tcp.secret` is set). A peer with a secret refuses a coordinator without one.
   */
  secret?: string | Uint8Array;
  /** Environment to read (default `process.env`). `PLEXUS_COLLECTIVES_SECRET` sets `secret`. */
  env?: Record<string, string | undefined>;
  /** Settings of the per-epoch TCP transports (`connectionsPerPeer` defaults to 1 here). */
  tcp?: Omit<TcpTransportOptions, 'rank' | 'worldSize' | 'store' | 'timeoutMs' | 'prefix'>;
  /** Told about admissions, epochs and rounds. */
  onEvent?: (event: FaultToleranceEvent) => void;
}

/** Per-call options. */
export interface FaultTolerantCallOptions {
  /** Milliseconds for the call (default: the group's). */
  timeoutMs?: number;
}

/** The round a call committed in. */
export interface RoundInfo {
  kind: RoundKind;
  epoch: number;
  /** Peer ids of the members, in rank order. */
  members: number[];
  /** Shared-state revision after the round. */
  revision: number;
}

/** What `syncSharedState` did. */
export interface SyncResult extends RoundInfo {
  /** The elected hash, which every member now holds. */
  hash: string;
  /** Keys this peer received. */
  received: string[];
}

/** What `updateTopology` did. */
export interface TopologyResult extends RoundInfo {
  /** Peer ids admitted in this round. */
  joined: number[];
}

/** The membership an all-to-all attempt runs on, as a `sendCounts` function sees it. */
export interface SplitView {
  /** Peer ids of the round's members, in rank order. */
  members: number[];
  /** This peer's rank among them. */
  rank: number;
  epoch: number;
}

/**
 * How a fault-tolerant all-to-all splits its buffer: `'equal'`, a fixed
 * array of per-destination counts (rejected with `mismatch` when the
 * membership no longer has that many members), or a function of the
 * membership the attempt runs on, called again on every attempt.
 */
export type FaultTolerantSplit =
  | 'equal'
  | readonly number[]
  | ((view: SplitView) => readonly number[]);
