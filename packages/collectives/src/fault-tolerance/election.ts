import type { StateDigest, Transfer } from './protocol.js';

/** A member's vote in a shared-state round. */
export interface StateVote {
  /** Rank of the member in the round's epoch. */
  rank: number;
  /** Whether it held the shared state after the last committed synchronisation. */
  synced: boolean;
  digest: StateDigest;
}

/** The elected state and who fetches what from whom. */
export interface SyncPlan {
  elected: StateDigest;
  transfers: Transfer[];
}

/**
 * PCCL's "content hash popularity" election: among the members that held
 * the state at the last committed synchronisation (everyone when none did,
 * i.e. at the start of a run), the most common total hash wins (ties: the
 * one held by the lowest rank). Every member whose hash differs fetches the
 * keys that differ, spread round-robin over the members that hold the
 * winner. Returns `undefined` when no member can be trusted (all synced
 * members are gone after state existed): the state is lost.
 */
export function electState(votes: StateVote[], stateExisted: boolean): SyncPlan | undefined {
  const synced = votes.filter((v) => v.synced);
  if (synced.length === 0 && stateExisted) return undefined;
  const candidates = synced.length > 0 ? synced : votes;
  const count = new Map<string, { n: number; first: StateVote }>();
  for (const v of [...candidates].sort((a, b) => a.rank - b.rank)) {
    const c = count.get(v.digest.total);
    if (c) c.n++;
    else count.set(v.digest.total, { n: 1, first: v });
  }
  let best: { n: number; first: StateVote } | undefined;
  for (const c of count.values()) {
    if (!best || c.n > best.n || (c.n === best.n && c.first.rank < best.first.rank)) best = c;
  }
  const elected = best!.first.digest;
  const holders = votes
    .filter((v) => v.digest.total === elected.total)
    .map((v) => v.rank)
    .sort((a, b) => a - b);
  const fetchers = votes
    .filter((v) => v.digest.total !== elected.total)
    .sort((a, b) => a.rank - b.rank);
  const transfers = fetchers.map((v, i) => ({
    from: holders[i % holders.length]!,
    to: v.rank,
    keys: Object.keys(elected.keys)
      .sort()
      .filter((k) => v.digest.keys[k]?.hash !== elected.keys[k]!.hash),
  }));
  return { elected, transfers };
}
