import { PlexusCollectivesError } from '../errors.js';
import { createTcpStore, type TcpStore } from '../store/tcp-store.js';
import { createTcpTransport, type TcpTransport } from '../transport/tcp/tcp-transport.js';
import type { Secret } from './auth.js';
import { CoordinatorChannel } from './channel.js';
import type {
  FaultTolerantCallOptions,
  FaultTolerantGroupOptions,
  RoundInfo,
} from './group-types.js';
import {
  type CoordinatorMessage,
  FT_MODULE,
  type RoundKind,
  type StateDigest,
} from './protocol.js';
import { RoundContext } from './round.js';

/** The coordinator's start signal of a round. */
export type Go = Extract<CoordinatorMessage, { t: 'go' }>;
/** The coordinator's verdict on a round. */
export type Outcome = Extract<CoordinatorMessage, { t: 'outcome' }>;

/** Milliseconds until `deadline`, as a whole number of at least 1. */
export const clampLeft = (deadline: number) => Math.max(1, Math.ceil(deadline - performance.now()));

/**
 * The protocol side of a `FaultTolerantGroup`: its coordinator channel and
 * store, the membership it has heard of, the rounds (vote, go, work, done,
 * verdict) and the TCP transport of the current epoch. Calls must not
 * overlap; the group serialises them.
 */
export class PeerSession {
  private channel: CoordinatorChannel | undefined;
  private store: TcpStore | undefined;
  private transport: { epoch: number; t: TcpTransport } | undefined;
  private brokenBy: PlexusCollectivesError | undefined;
  private ticket = 0;
  private readonly goWaiters = new Map<
    number,
    { resolve: (go: Go) => void; reject: (e: PlexusCollectivesError) => void }
  >();
  private current: RoundContext<Outcome> | undefined;
  private admitted:
    | {
        resolve: (m: Extract<CoordinatorMessage, { t: 'admitted' }>) => void;
        reject: (e: PlexusCollectivesError) => void;
      }
    | undefined;
  private _epoch = 0;
  private _members: number[] = [];
  private _revision = 0;
  private _lastRound: RoundInfo | undefined;

  /**
   * `secret` is the run's (already resolved: option, `tcp.secret` or the
   * environment); it covers the coordinator channel, its store and, unless
   * `tcp.secret` is set, the per-epoch transports.
   */
  constructor(
    private readonly options: FaultTolerantGroupOptions,
    private readonly timeoutMs: number,
    private readonly secret: Secret | undefined,
  ) {}

  /** This peer's id, assigned by the coordinator (-1 before `join`). */
  get peerId(): number {
    return this.channel?.welcome.peerId ?? -1;
  }
  /** The latest epoch this peer has heard of. */
  get epoch(): number {
    return this._epoch;
  }
  /** Peer ids of the latest epoch's members, in rank order. */
  get members(): readonly number[] {
    return this._members;
  }
  /** This peer's rank in the latest epoch (-1 when not a member). */
  get rank(): number {
    return this._members.indexOf(this.peerId);
  }
  /** Members in the latest epoch. */
  get worldSize(): number {
    return this._members.length;
  }
  /** Shared-state revision: how many synchronisations the run has committed. */
  get revision(): number {
    return this._revision;
  }
  /**
   * Why the group cannot continue (the coordinator is gone, this peer was
   * dropped or left), or `undefined`. A failed call with the group not broken
   * may simply be retried.
   */
  get broken(): PlexusCollectivesError | undefined {
    return this.brokenBy;
  }
  /** The round of the last committed call. */
  get lastRound(): RoundInfo | undefined {
    return this._lastRound;
  }

  fail(code: 'broken' | 'timeout' | 'mismatch', message: string): PlexusCollectivesError {
    return new PlexusCollectivesError(FT_MODULE, code, message);
  }

  private onMessage(msg: CoordinatorMessage): void {
    switch (msg.t) {
      case 'admitted':
        this._epoch = msg.epoch;
        this._members = msg.members;
        this._revision = msg.revision;
        this.admitted?.resolve(msg);
        return;
      case 'epoch':
        if (msg.epoch < this._epoch) return;
        this._epoch = msg.epoch;
        this._members = msg.members;
        this.options.onEvent?.({ type: 'epoch', epoch: msg.epoch, members: msg.members });
        return;
      case 'go': {
        const w = this.goWaiters.get(msg.ticket);
        this.goWaiters.delete(msg.ticket);
        w?.resolve(msg);
        return;
      }
      case 'reject': {
        const w = this.goWaiters.get(msg.ticket);
        this.goWaiters.delete(msg.ticket);
        w?.reject(this.fail(msg.code, msg.message));
        return;
      }
      case 'outcome':
        this._revision = msg.revision;
        if (this.current?.round === msg.round) {
          if (!msg.committed) this.closeTransport();
          this.current.settle(msg);
        }
        return;
      default:
        return;
    }
  }

  private onLost(error: PlexusCollectivesError): void {
    this.brokenBy ??= error;
    this.admitted?.reject(error);
    for (const w of this.goWaiters.values()) w.reject(error);
    this.goWaiters.clear();
    this.current?.abort(error);
    this.closeTransport();
  }

  private closeTransport(): void {
    const t = this.transport;
    this.transport = undefined;
    void t?.t.close();
  }

  private callTimeout(options: FaultTolerantCallOptions | undefined): number {
    const t = options?.timeoutMs ?? this.timeoutMs;
    if (!(typeof t === 'number' && t > 0)) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `expected timeoutMs > 0, got ${String(t)}`,
      );
    }
    return t;
  }

  /**
   * Connects to the coordinator and waits until this peer is a member.
   */
  async open(options?: FaultTolerantCallOptions): Promise<RoundInfo> {
    if (this.channel || this.brokenBy) {
      throw this.fail(
        'broken',
        'join: this peer has already joined (or failed to); create a new group to join again',
      );
    }
    const timeoutMs = this.callTimeout(options);
    const deadline = performance.now() + timeoutMs;
    const admitted = new Promise<Extract<CoordinatorMessage, { t: 'admitted' }>>(
      (resolve, reject) => {
        this.admitted = { resolve, reject };
      },
    );
    // Raced below; a loss before then must not surface as an unhandled rejection.
    admitted.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      const channel = await CoordinatorChannel.open(
        this.options.host,
        this.options.port,
        this.options.name ?? `pid ${process.pid}`,
        this.secret,
        timeoutMs,
        (m) => this.onMessage(m),
        (e) => this.onLost(e),
      );
      this.channel = channel;
      // Only after the coordinator proved the secret; an admission meanwhile waits in `admitted`.
      this.store = await createTcpStore({
        host: this.options.host,
        port: channel.welcome.storePort,
        timeoutMs: clampLeft(deadline),
        ...(this.secret !== undefined ? { secret: this.secret } : {}),
      });
      const msg = await Promise.race([
        admitted,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                this.fail(
                  'timeout',
                  `join: not admitted within ${timeoutMs} ms (members admit peers when they call updateTopology())`,
                ),
              ),
            clampLeft(deadline),
          );
        }),
      ]);
      this.options.onEvent?.({ type: 'admitted', epoch: msg.epoch, members: msg.members });
      return { kind: 'topology', epoch: msg.epoch, members: msg.members, revision: msg.revision };
    } catch (error) {
      await this.shutdown();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A round that every member votes for: waits for the coordinator's `go`,
   * runs `body`, reports, and waits for the one verdict every member gets.
   */
  async round<R>(
    what: string,
    kind: RoundKind,
    sig: string,
    state: StateDigest | undefined,
    options: FaultTolerantCallOptions | undefined,
    body: (go: Go, ctx: RoundContext<Outcome>, deadline: number) => Promise<R>,
  ): Promise<{ go: Go; result: R; outcome: Outcome | undefined }> {
    const timeoutMs = this.callTimeout(options);
    const channel = this.channel;
    if (!channel) throw this.fail('broken', `${what}: call join() first`);
    if (this.brokenBy) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'broken',
        `${what}: the group is broken (${this.brokenBy.message})`,
        { cause: this.brokenBy },
      );
    }
    const deadline = performance.now() + timeoutMs;
    const ticket = ++this.ticket;
    const go = await new Promise<Go>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.goWaiters.delete(ticket);
        // If the go crossed this message, the coordinator aborts the round for everyone.
        channel.send({ id: 0, t: 'withdraw', ticket });
        reject(
          this.fail(
            'timeout',
            `${what}: not every member called it within ${timeoutMs} ms (epoch ${this._epoch})`,
          ),
        );
      }, timeoutMs);
      this.goWaiters.set(ticket, {
        resolve: (g) => {
          clearTimeout(timer);
          resolve(g);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      channel.send({ id: 0, t: 'vote', ticket, kind, sig, ...(state ? { state } : {}) });
    });
    this._epoch = Math.max(this._epoch, go.epoch);
    this._members = go.members;
    if (kind === 'topology') {
      this._revision = go.revision;
      this._lastRound = { kind, epoch: go.epoch, members: go.members, revision: go.revision };
      return { go, result: undefined as R, outcome: undefined };
    }
    const ctx = new RoundContext<Outcome>(go.round);
    this.current = ctx;
    const event = { kind, round: go.round, epoch: go.epoch };
    this.options.onEvent?.({ type: 'round-start', ...event });
    try {
      let result: R;
      try {
        result = await ctx.race(body(go, ctx, deadline));
      } catch (error) {
        if (ctx.outcome) throw this.aborted(what, ctx.outcome);
        const reason = error instanceof Error ? error.message : String(error);
        channel.send({ id: 0, t: 'done', round: go.round, ok: false, reason });
        this.closeTransport();
        if (
          PlexusCollectivesError.isInstance(error) &&
          error.code === 'mismatch' &&
          error.module === FT_MODULE
        ) {
          // The body found its input does not fit this round (e.g. the world size changed); say so as such.
          throw error;
        }
        throw PlexusCollectivesError.isInstance(error) && error.code === 'timeout'
          ? this.fail('timeout', `${what} timed out in epoch ${go.epoch}: ${reason}`)
          : new PlexusCollectivesError(
              FT_MODULE,
              'broken',
              `${what} failed in epoch ${go.epoch}: ${reason}`,
              { cause: error },
            );
      }
      channel.send({ id: 0, t: 'done', round: go.round, ok: true });
      // Only the coordinator may decide; it does within the others' timeouts plus a heartbeat timeout.
      const grace = clampLeft(deadline) + channel.welcome.heartbeatTimeoutMs + 1_000;
      const outcome = await ctx.settled(grace);
      if (!outcome) {
        this.brokenBy ??= this.fail(
          'timeout',
          `${what}: the coordinator gave no verdict on round ${go.round} within ${Math.round(grace)} ms`,
        );
        throw this.brokenBy;
      }
      if (!outcome.committed) throw this.aborted(what, outcome);
      this.options.onEvent?.({ type: 'round-end', ...event, committed: true });
      this._lastRound = {
        kind,
        epoch: go.epoch,
        members: go.members,
        revision: outcome.revision,
      };
      return { go, result, outcome };
    } catch (error) {
      this.options.onEvent?.({ type: 'round-end', ...event, committed: false });
      throw error;
    } finally {
      this.current = undefined;
    }
  }

  private aborted(what: string, outcome: Outcome): PlexusCollectivesError {
    return this.fail(
      'broken',
      `${what} aborted on every member (round ${outcome.round}): ${outcome.reason}; retry it, it runs in the next epoch`,
    );
  }

  /** The TCP transport of `go`'s epoch, built (rendezvous through the coordinator's store) when the epoch is new. */
  async transportFor(go: Go, ctx: RoundContext<Outcome>, deadline: number): Promise<TcpTransport> {
    if (this.transport?.epoch === go.epoch) return this.transport.t;
    this.closeTransport();
    const tcp = this.options.tcp ?? {};
    const building = createTcpTransport({
      connectionsPerPeer: 1,
      host: this.channel?.localAddress ?? '127.0.0.1',
      ...tcp,
      ...(tcp.secret === undefined && this.secret !== undefined ? { secret: this.secret } : {}),
      rank: go.members.indexOf(this.peerId),
      worldSize: go.members.length,
      store: this.store!,
      timeoutMs: clampLeft(deadline),
      prefix: `plexus/ft/${this.channel!.welcome.runId}/e${go.epoch}`,
    });
    // An aborted round leaves this build behind; close what it makes.
    building
      .then(async (t) => {
        if (ctx.aborted) await t.close();
      })
      .catch(() => undefined);
    const t = await ctx.race(building);
    this.transport = { epoch: go.epoch, t };
    return t;
  }

  /** Tells the coordinator this peer leaves, then closes everything. */
  async leave(): Promise<void> {
    this.channel?.send({ id: 0, t: 'leave' });
    await this.shutdown();
  }

  /** Closes the channel, the transport and the store; later calls reject with `broken`. */
  async shutdown(): Promise<void> {
    this.brokenBy ??= this.fail('broken', 'this peer has left the group');
    this.channel?.close();
    this.closeTransport();
    await this.store?.close();
  }
}
