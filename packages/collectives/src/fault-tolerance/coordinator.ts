import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';
import { startTcpStoreServer } from '../store/tcp-store-server.js';
import { writeMessage } from '../store/wire.js';
import { acceptPeer } from './admission.js';
import type { Secret } from './auth.js';
import { electState } from './election.js';
import {
  type CoordinatorMessage,
  FT_MODULE,
  type PeerMessage,
  type RoundKind,
  type StateDigest,
  type Transfer,
} from './protocol.js';
import { resolveSecret } from './secret.js';

/** Options for `startCoordinator`. */
export interface CoordinatorOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port; read it back from `port`). */
  port?: number;
  /** Peers that must have connected before the first epoch forms (default 1). */
  minInitialPeers?: number;
  /** How often peers send heartbeats (ms, default 500). */
  heartbeatMs?: number;
  /** A peer silent for this long is dropped as dead (ms, default 5 000). */
  heartbeatTimeoutMs?: number;
  /**
   * Shared secret of the run (default: `PLEXUS_COLLECTIVES_SECRET` from
   * `env`). Peers must prove it (HMAC-SHA256 challenge-response, both ways)
   * before they are registered, and the rendezvous store of their per-epoch
   * transports requires it too (`startTcpStoreServer`'s `secret`); others
   * are refused and disconnected.
   */
  secret?: Secret;
  /** Environment to read (default `process.env`). `PLEXUS_COLLECTIVES_SECRET` sets `secret`. */
  env?: Record<string, string | undefined>;
  /**
   * Milliseconds a new connection (to the coordinator or its store) has to
   * complete its handshake before it is dropped (default 10 000).
   */
  handshakeTimeoutMs?: number;
  /**
   * Told about every refused connection, to the coordinator or its store:
   * a missing or wrong secret proof, no handshake in time, garbage or an
   * oversized message before the handshake. A throwing observer is ignored.
   */
  onRejectedConnection?: (error: PlexusCollectivesError) => void;
}

/** What the coordinator has seen, for tests and monitoring. */
export interface CoordinatorStats {
  epoch: number;
  members: number[];
  pending: number[];
  revision: number;
  committedRounds: number;
  abortedRounds: number;
  /**
   * Connections refused (see `onRejectedConnection`), to the coordinator
   * and to its store together.
   */
  rejectedConnections: number;
  /** Every epoch's membership, oldest first. */
  epochs: { epoch: number; members: number[] }[];
}

/** A running coordinator; see `startCoordinator`. */
export interface Coordinator {
  readonly host: string;
  readonly port: number;
  /** Port of the rendezvous store the peers' per-epoch TCP transports use. */
  readonly storePort: number;
  stats(): CoordinatorStats;
  /** Stops listening and drops every peer (they see a `broken` error). */
  close(): Promise<void>;
}

interface Peer {
  id: number;
  socket: Socket;
  lastSeen: number;
  synced: boolean;
}

interface Vote {
  ticket: number;
  kind: RoundKind;
  sig: string;
  state?: StateDigest;
}

interface Running {
  round: number;
  kind: RoundKind;
  members: number[];
  done: Set<number>;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      `expected ${name} to be a positive integer, got ${String(value)}`,
    );
  }
  return v;
}

/**
 * The coordinator of a fault-tolerant run, after PCCL's master ("Prime
 * Collective Communications Library — Technical Report", 2025): one event
 * loop that owns the membership, numbered by a monotonically increasing
 * epoch. Peers connect and wait as pending until the members agree to let
 * them in (a `topology` round); every collective and shared-state
 * synchronisation is a round that all members vote for, that starts only
 * when every member has voted and that ends with one verdict for everyone:
 * committed when every member reported success, aborted as soon as one
 * member fails, times out, leaves its socket or stops sending heartbeats.
 * Any abort or membership change starts a new epoch, so the survivors
 * rebuild their transports on the membership they all agree on. It also
 * hosts the key-value store of those per-epoch transports' rendezvous.
 */
export async function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const host = options.host ?? '127.0.0.1';
  const minInitial = positiveInt('minInitialPeers', options.minInitialPeers, 1);
  const heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs, 500);
  const heartbeatTimeoutMs = positiveInt('heartbeatTimeoutMs', options.heartbeatTimeoutMs, 5_000);
  if (heartbeatTimeoutMs <= heartbeatMs) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      `expected heartbeatTimeoutMs (${heartbeatTimeoutMs}) > heartbeatMs (${heartbeatMs})`,
    );
  }
  const handshakeTimeoutMs = positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs, 10_000);
  const secret = resolveSecret(options.secret, options.env);
  let rejectedConnections = 0;
  const rejected = (error: PlexusCollectivesError) => {
    rejectedConnections++;
    try {
      options.onRejectedConnection?.(error);
    } catch {
      // A throwing observer must not take the coordinator (and the whole run) down.
    }
  };
  const store = await startTcpStoreServer({
    host,
    port: 0,
    handshakeTimeoutMs,
    onRejectedConnection: rejected,
    ...(secret !== undefined ? { secret } : {}),
  });
  const runId = randomBytes(6).toString('hex');
  const peers = new Map<number, Peer>();
  let pending: number[] = [];
  let members: number[] = [];
  let epoch = 0;
  let revision = 0;
  let formed = false;
  let nextPeerId = 0;
  let nextRound = 0;
  let committedRounds = 0;
  let abortedRounds = 0;
  const epochs: CoordinatorStats['epochs'] = [];
  const votes = new Map<number, Vote>();
  let running: Running | undefined;

  const send = (id: number, msg: CoordinatorMessage) => {
    const p = peers.get(id);
    if (p && !p.socket.destroyed) writeMessage(p.socket, msg);
  };

  const newEpoch = (next: number[]) => {
    members = next;
    epoch++;
    epochs.push({ epoch, members: [...members] });
    for (const m of members) send(m, { id: 0, t: 'epoch', epoch, members });
  };

  const admitPending = (): number[] => {
    const joined = pending.filter((id) => peers.has(id));
    pending = [];
    if (joined.length === 0) return [];
    newEpoch([...members, ...joined]);
    for (const j of joined) send(j, { id: 0, t: 'admitted', epoch, members, revision });
    return joined;
  };

  /** Bootstrap: with no members, pending peers form the group at once. */
  const bootstrap = () => {
    if (members.length > 0) return;
    if (!formed && pending.length < minInitial) return;
    if (admitPending().length > 0) formed = true;
  };

  const finish = (committed: boolean, reason: string) => {
    const r = running;
    if (!r) return;
    running = undefined;
    if (committed) {
      committedRounds++;
      if (r.kind === 'sync') {
        revision++;
        for (const m of r.members) {
          const p = peers.get(m);
          if (p) p.synced = true;
        }
      }
    } else abortedRounds++;
    for (const m of r.members) {
      send(m, { id: 0, t: 'outcome', round: r.round, committed, reason, revision });
    }
    // A failed round may have left transports half-broken: everyone rebuilds in a new epoch.
    if (!committed) {
      newEpoch(members.filter((m) => peers.has(m)));
      bootstrap();
    }
    tryStart();
  };

  const rejectAll = (code: 'mismatch' | 'broken', message: string) => {
    for (const [id, v] of votes) send(id, { id: 0, t: 'reject', ticket: v.ticket, code, message });
    votes.clear();
  };

  function tryStart(): void {
    if (running || members.length === 0) return;
    if (!members.every((m) => votes.has(m))) return;
    const first = votes.get(members[0]!)!;
    const odd = members.find((m) => votes.get(m)!.sig !== first.sig);
    if (odd !== undefined) {
      rejectAll(
        'mismatch',
        `members called different operations: peer ${members[0]} "${first.sig}", peer ${odd} "${votes.get(odd)!.sig}" (every member must issue the same calls in the same order)`,
      );
      return;
    }
    const cast = new Map(votes);
    const ticket = (m: number) => cast.get(m)!.ticket;
    votes.clear();
    const round = ++nextRound;
    if (first.kind === 'topology') {
      const voters = [...members];
      const joined = admitPending();
      committedRounds++;
      for (const m of voters) {
        const go = { id: 0, t: 'go', ticket: ticket(m), round, kind: 'topology' } as const;
        send(m, { ...go, epoch, members, revision, joined });
      }
      return;
    }
    let sync: { elected: StateDigest; transfers: Transfer[] } | undefined;
    if (first.kind === 'sync') {
      if (members.some((m) => cast.get(m)!.state === undefined)) {
        for (const [m, v] of cast) votes.set(m, v);
        rejectAll('mismatch', 'a shared-state vote came without its state digest');
        return;
      }
      const plan = electState(
        members.map((m, rank) => ({
          rank,
          synced: peers.get(m)!.synced,
          digest: cast.get(m)!.state!,
        })),
        revision > 0,
      );
      if (!plan) {
        for (const [m, v] of cast) votes.set(m, v);
        rejectAll(
          'broken',
          `shared state of revision ${revision} is lost: no member that held it is left (restore it from a checkpoint and restart the coordinator)`,
        );
        return;
      }
      sync = plan;
    }
    running = { round, kind: first.kind, members: [...members], done: new Set() };
    for (const m of members) {
      const go = { id: 0, t: 'go', ticket: ticket(m), round, kind: first.kind } as const;
      send(m, { ...go, epoch, members, revision, joined: [], ...(sync ? { sync } : {}) });
    }
  }

  const collectVote = (id: number, v: Vote) => {
    if (!members.includes(id)) {
      send(id, {
        id: 0,
        t: 'reject',
        ticket: v.ticket,
        code: 'broken',
        message: `peer ${id} is not a member of epoch ${epoch}`,
      });
      return;
    }
    votes.set(id, v);
    tryStart();
  };

  const drop = (id: number, why: string) => {
    const p = peers.get(id);
    if (!p) return;
    peers.delete(id);
    p.socket.destroy();
    pending = pending.filter((x) => x !== id);
    votes.delete(id);
    if (!members.includes(id)) return;
    const rest = members.filter((m) => m !== id);
    if (running?.members.includes(id)) {
      members = rest;
      finish(false, `peer ${id} ${why}`);
    } else {
      newEpoch(rest);
      bootstrap();
      tryStart();
    }
  };

  const onMessage = (id: number, msg: PeerMessage) => {
    const p = peers.get(id);
    if (!p) return;
    p.lastSeen = performance.now();
    switch (msg.t) {
      case 'hb':
        return;
      case 'vote':
        return collectVote(id, {
          ticket: msg.ticket,
          kind: msg.kind,
          sig: msg.sig,
          ...(msg.state ? { state: msg.state } : {}),
        });
      case 'withdraw':
        if (votes.get(id)?.ticket === msg.ticket) votes.delete(id);
        else if (running?.members.includes(id) && !running.done.has(id)) {
          finish(false, `peer ${id} timed out`);
        }
        return;
      case 'done':
        if (!running || running.round !== msg.round || !running.members.includes(id)) return;
        if (!msg.ok) return finish(false, `peer ${id} failed: ${msg.reason ?? 'unknown error'}`);
        running.done.add(id);
        if (running.done.size === running.members.length) finish(true, 'committed');
        return;
      case 'leave':
        return drop(id, 'left');
      default:
        return drop(id, 'sent an unknown message');
    }
  };

  const settings = { secret, handshakeTimeoutMs, rejected };
  // Every connection, admitted or not, so close() does not wait on a stranger's handshake.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const id = nextPeerId++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      drop(id, 'disconnected');
    });
    acceptPeer(socket, settings, (admitted) => {
      admitted.listen(
        (msg) => onMessage(id, msg),
        (reason) => drop(id, `sent a malformed message (${reason})`),
      );
      peers.set(id, { id, socket, lastSeen: performance.now(), synced: false });
      send(id, {
        id: 0,
        t: 'welcome',
        peerId: id,
        ...(admitted.proof !== undefined ? { proof: admitted.proof } : {}),
        runId,
        storePort: store.port,
        heartbeatMs,
        heartbeatTimeoutMs,
      });
      pending.push(id);
      bootstrap();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      void store.close();
      reject(
        new PlexusCollectivesError(
          FT_MODULE,
          'invalid-argument',
          `coordinator cannot listen on ${host}:${options.port ?? 0}: ${error.message}`,
        ),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const p of [...peers.values()]) {
        if (now - p.lastSeen > heartbeatTimeoutMs) {
          drop(p.id, `sent no heartbeat for ${Math.round(now - p.lastSeen)} ms`);
        }
      }
    },
    Math.max(10, Math.floor(heartbeatMs / 2)),
  );
  sweep.unref();
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    storePort: store.port,
    stats: () => ({
      epoch,
      members: [...members],
      pending: [...pending],
      revision,
      committedRounds,
      abortedRounds,
      rejectedConnections,
      epochs: epochs.map((e) => ({ epoch: e.epoch, members: [...e.members] })),
    }),
    async close() {
      clearInterval(sweep);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
