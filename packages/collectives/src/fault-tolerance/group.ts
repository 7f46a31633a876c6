import { ringAllReduce } from '../algorithms/ring.js';
import { PlexusCollectivesError } from '../errors.js';
import { checkOp } from '../reduce.js';
import type { ElementArray } from '../reduction/dtype.js';
import type { CollectiveBuffer, ReduceOp } from '../types.js';
import { type FaultTolerantAllToAllVResult, faultTolerantAllToAll } from './all-to-all.js';
import type {
  FaultTolerantCallOptions,
  FaultTolerantGroupOptions,
  FaultTolerantSplit,
  RoundInfo,
  SyncResult,
  TopologyResult,
} from './group-types.js';
import { FT_MODULE, MAX_NAME_LENGTH } from './protocol.js';
import { resolveSecret } from './secret.js';
import { clampLeft, PeerSession } from './session.js';
import { checkState, digestState, layoutSignature, type SharedState } from './state-hash.js';
import { transferState } from './state-transfer.js';

export type { FaultTolerantAllToAllVResult } from './all-to-all.js';
export type {
  FaultToleranceEvent,
  FaultTolerantCallOptions,
  FaultTolerantGroupOptions,
  FaultTolerantSplit,
  RoundInfo,
  SplitView,
  SyncResult,
  TopologyResult,
} from './group-types.js';

/**
 * A peer of a fault-tolerant run (PCCL's communicator, "Prime Collective
 * Communications Library — Technical Report", 2025). `join()` registers
 * with the coordinator and resolves once the members admit this peer;
 * `updateTopology()` lets waiting peers in (call it between collectives,
 * every member alike); `syncSharedState(state)` makes every member's state
 * bit-identical to the most popular one (new peers receive it);
 * `allReduce(buf, op)` runs the ring all-reduce over the epoch's members on
 * a TCP transport rebuilt whenever the epoch changes; `allToAll(buf)` and
 * `allToAllV(buf, sendCounts)` exchange chunks between the members over the
 * same transport. Each call either
 * commits on the membership every member agreed on, or rejects on every
 * survivor with a `PlexusCollectivesError` (`broken`, `timeout` or
 * `mismatch`) and leaves its buffers untouched, so the caller may retry
 * at once: the retry runs in a new epoch without the failed peer.
 */
export class FaultTolerantGroup {
  private readonly session: PeerSession;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FaultTolerantGroupOptions) {
    const t = options.timeoutMs ?? 30_000;
    if (!(typeof t === 'number' && t > 0)) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `expected timeoutMs > 0, got ${String(options.timeoutMs)}`,
      );
    }
    if (typeof options.host !== 'string' || !Number.isInteger(options.port)) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `expected the coordinator's host and port, got ${String(options.host)}:${String(options.port)}`,
      );
    }
    if (
      options.name !== undefined &&
      !(typeof options.name === 'string' && options.name.length <= MAX_NAME_LENGTH)
    ) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `expected name to be a string of at most ${MAX_NAME_LENGTH} characters`,
      );
    }
    if (options.tcp?.secret !== undefined) resolveSecret(options.tcp.secret, {}, 'tcp.secret');
    const secret = resolveSecret(options.secret ?? options.tcp?.secret, options.env);
    this.session = new PeerSession(options, t, secret);
  }

  /** This peer's id, assigned by the coordinator (-1 before `join`). */
  get peerId(): number {
    return this.session.peerId;
  }
  /** The latest epoch this peer has heard of. */
  get epoch(): number {
    return this.session.epoch;
  }
  /** Peer ids of the latest epoch's members, in rank order. */
  get members(): readonly number[] {
    return this.session.members;
  }
  /** This peer's rank in the latest epoch (-1 when not a member). */
  get rank(): number {
    return this.session.members.indexOf(this.session.peerId);
  }
  /** Members in the latest epoch. */
  get worldSize(): number {
    return this.session.members.length;
  }
  /** Shared-state revision: how many synchronisations the run has committed. */
  get revision(): number {
    return this.session.revision;
  }
  /**
   * Why the group cannot continue (the coordinator is gone, this peer was
   * dropped or left), or `undefined`. A failed call with the group not broken
   * may simply be retried.
   */
  get broken(): PlexusCollectivesError | undefined {
    return this.session.broken;
  }
  /** The round of the last committed call. */
  get lastRound(): RoundInfo | undefined {
    return this.session.lastRound;
  }

  /** Calls run one at a time, in call order. */
  private serial<R>(body: () => Promise<R>): Promise<R> {
    const result = this.queue.then(body, body);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Connects to the coordinator and waits until this peer is a member:
   * at once when it helps form the first epoch, else when the members next
   * call `updateTopology()`. A peer that joins a running group must call
   * `syncSharedState` next (the members do so after their `updateTopology`).
   */
  join(options?: FaultTolerantCallOptions): Promise<RoundInfo> {
    return this.serial(() => this.session.open(options));
  }

  /** Admits the peers waiting to join (every member calls it at the same point between collectives). */
  async updateTopology(options?: FaultTolerantCallOptions): Promise<TopologyResult> {
    const { go } = await this.serial(() =>
      this.session.round(
        'updateTopology',
        'topology',
        'topology',
        undefined,
        options,
        async () => undefined,
      ),
    );
    return {
      kind: 'topology',
      epoch: go.epoch,
      members: go.members,
      revision: go.revision,
      joined: go.joined,
    };
  }

  /**
   * In place, over the epoch's members: ring reduce-scatter + all-gather on
   * a copy, written into `buf` only once every member has succeeded. On
   * failure `buf` is unchanged and the call rejects on every member.
   */
  async allReduce<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: FaultTolerantCallOptions,
  ): Promise<T> {
    if (
      !(buf instanceof Float32Array || buf instanceof Float64Array || buf instanceof Int32Array)
    ) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        'allReduce: expected a Float32Array, Float64Array or Int32Array',
      );
    }
    checkOp(op);
    const sig = `allReduce:${buf.constructor.name}:${buf.length}:${op}`;
    return this.serial(async () => {
      const { result } = await this.session.round(
        'allReduce',
        'allReduce',
        sig,
        undefined,
        options,
        async (go, ctx, deadline) => {
          // The copy is taken when the round starts and written back only once it committed.
          const work = buf.slice() as T;
          const t = await this.session.transportFor(go, ctx, deadline);
          await ringAllReduce(t, work, op, { timeoutMs: clampLeft(deadline) });
          return work;
        },
      );
      buf.set(result as never);
      return buf;
    });
  }

  /**
   * Equal-split all-to-all over the epoch's members: chunk `j` of `buf` goes
   * to the member of rank `j`, chunk `j` of the result came from it. The
   * chunk size is `buf.length / worldSize` with the world size of the
   * attempt, so after a peer died the retry splits the same buffer over the
   * survivors; when it does not divide, every member rejects with
   * `mismatch` (resize `buf` to the new `worldSize` and retry). `buf.length`
   * and the element type must match on every member; `buf` is never
   * modified and the result is returned only once every member succeeded.
   */
  allToAll<T extends ElementArray>(buf: T, options?: FaultTolerantCallOptions): Promise<T> {
    return this.serial(async () => {
      const r = await faultTolerantAllToAll(this.session, 'allToAll', buf, 'equal', options);
      return r.data;
    });
  }

  /**
   * Variable-split all-to-all over the epoch's members: the first
   * `sendCounts[0]` elements of `buf` go to rank 0, the next `sendCounts[1]`
   * to rank 1, and so on; the result groups what each rank sent here in rank
   * order. A retry after a failure may run on fewer members, so `sendCounts`
   * may be a function of the attempt's membership (`{ members, rank, epoch }`),
   * called on every attempt; a fixed array whose length is not the attempt's
   * world size makes this member reject with `mismatch` (the others with
   * `broken`). `buf` is never modified; the result is returned only once
   * every member succeeded.
   */
  allToAllV<T extends ElementArray>(
    buf: T,
    sendCounts: Exclude<FaultTolerantSplit, 'equal'>,
    options?: FaultTolerantCallOptions,
  ): Promise<FaultTolerantAllToAllVResult<T>> {
    return this.serial(() =>
      faultTolerantAllToAll(this.session, 'allToAllV', buf, sendCounts, options),
    );
  }

  /**
   * Makes every member's `state` bit-identical: each member's sha256 digest
   * goes to the coordinator, which elects the most popular state among the
   * members that held it before (PCCL's hash popularity); members that
   * differ (new peers above all) receive the differing arrays from one that
   * holds it, check them against the elected hashes, and only then overwrite
   * their arrays. Names, element types and lengths must match on every
   * member. Do not modify `state` while the call runs.
   */
  async syncSharedState(
    state: SharedState,
    options?: FaultTolerantCallOptions,
  ): Promise<SyncResult> {
    checkState(state);
    return this.serial(async () => {
      const digest = digestState(state);
      const { go, result, outcome } = await this.session.round(
        'syncSharedState',
        'sync',
        `sync:${layoutSignature(digest)}`,
        digest,
        options,
        async (go, ctx, deadline) => {
          const plan = go.sync!;
          if (plan.transfers.length === 0) return new Map<string, Uint8Array>();
          const t = await this.session.transportFor(go, ctx, deadline);
          return transferState(t, state, plan.elected, plan.transfers, () => clampLeft(deadline));
        },
      );
      for (const [key, bytes] of result) {
        const t = state[key]!;
        new Uint8Array(t.buffer, t.byteOffset, t.byteLength).set(bytes);
      }
      return {
        kind: 'sync',
        epoch: go.epoch,
        members: go.members,
        revision: outcome!.revision,
        hash: go.sync!.elected.total,
        received: [...result.keys()],
      };
    });
  }

  /** Leaves the run between collectives: the others continue in a new epoch without this peer. */
  leave(): Promise<void> {
    return this.serial(() => this.session.leave());
  }
}

/** A peer of a fault-tolerant run; call `join()` next. See `FaultTolerantGroup`. */
export function createFaultTolerantGroup(options: FaultTolerantGroupOptions): FaultTolerantGroup {
  return new FaultTolerantGroup(options);
}
