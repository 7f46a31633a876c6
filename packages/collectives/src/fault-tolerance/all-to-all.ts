import { allToAllV } from '../algorithms/collectives.js';
import { PlexusCollectivesError } from '../errors.js';
import { checkElementArray, type ElementArray } from '../reduction/dtype.js';
import type { FaultTolerantCallOptions, FaultTolerantSplit } from './group-types.js';
import { FT_MODULE } from './protocol.js';
import { clampLeft, type Go, type PeerSession } from './session.js';

/** What a committed fault-tolerant all-to-all produced on this peer. */
export interface FaultTolerantAllToAllVResult<T extends ElementArray> {
  /** Received elements, grouped by source rank in rank order. */
  data: T;
  /** `recvCounts[s]`: elements received from the member of rank `s`. */
  recvCounts: number[];
  /** The split this peer sent with (one count per member of `members`). */
  sendCounts: number[];
  /** The epoch the call committed in. */
  epoch: number;
  /** Peer ids of that epoch's members, in rank order. */
  members: number[];
}

/** Per-destination counts: non-negative integers summing to `length` (the world size is checked later, at `go`). */
function checkCounts(what: string, counts: readonly number[], length: number): number[] {
  if (!Array.isArray(counts)) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      `${what}: expected sendCounts to be an array of counts or a function of the members returning one, got ${typeof counts}`,
    );
  }
  let sum = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `${what}: expected sendCounts to hold non-negative integers, got ${String(c)}`,
      );
    }
    sum += c;
  }
  if (sum !== length) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      `${what}: sendCounts sum to ${sum} but the buffer holds ${length} elements`,
    );
  }
  return [...counts];
}

/**
 * The split of one attempt, from the membership the coordinator started it
 * with. Thrown before the body's first `await`, so every member that finds
 * the same mismatch reports it as its own `mismatch` (not as an abort).
 */
function splitFor(
  what: string,
  buf: ElementArray,
  split: FaultTolerantSplit,
  go: Go,
  peerId: number,
): number[] {
  const n = go.members.length;
  let counts: number[];
  if (split === 'equal') {
    if (buf.length % n !== 0) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'mismatch',
        `${what}: ${buf.length} elements do not split equally over the ${n} members of epoch ${go.epoch} (pass a length divisible by the world size, or use allToAllV with a function of the members)`,
      );
    }
    return new Array<number>(n).fill(buf.length / n);
  }
  if (typeof split === 'function') {
    counts = checkCounts(
      what,
      split({ members: [...go.members], rank: go.members.indexOf(peerId), epoch: go.epoch }),
      buf.length,
    );
  } else counts = [...split];
  if (counts.length !== n) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'mismatch',
      `${what}: ${counts.length} send counts for the ${n} members of epoch ${go.epoch} (the membership changed: pass sendCounts as a function of the members to recompute them on retry)`,
    );
  }
  return counts;
}

/**
 * One fault-tolerant all-to-all round: every member votes (dtype and, for
 * equal splits, length must agree), the split is fixed from the members the
 * coordinator started the round with, and the flat all-to-all runs on a copy
 * of `buf` over the epoch's TCP transport. The result is handed out only
 * once the coordinator committed the round on every member.
 */
export async function faultTolerantAllToAll<T extends ElementArray>(
  session: PeerSession,
  what: string,
  buf: T,
  split: FaultTolerantSplit,
  options: FaultTolerantCallOptions | undefined,
): Promise<FaultTolerantAllToAllVResult<T>> {
  checkElementArray(FT_MODULE, 'buf', buf);
  // A fixed split is checked (and copied) now; only its length waits for the round's membership.
  const fixed =
    split === 'equal' || typeof split === 'function'
      ? undefined
      : checkCounts(what, split, buf.length);
  // Equal splits need the same length everywhere; variable splits only the same element type.
  const sig =
    split === 'equal'
      ? `allToAll:${buf.constructor.name}:${buf.length}`
      : `allToAllV:${buf.constructor.name}`;
  const { go, result } = await session.round(
    what,
    'allToAll',
    sig,
    undefined,
    options,
    async (go, ctx, deadline) => {
      const sendCounts = splitFor(what, buf, fixed ?? split, go, session.peerId);
      // A copy taken when the round starts, so the caller's buffer is never read mid-flight.
      const work = buf.slice() as T;
      const t = await session.transportFor(go, ctx, deadline);
      const r = await allToAllV(t, work, sendCounts, {
        algorithm: 'flat',
        timeoutMs: clampLeft(deadline),
      });
      return { ...r, sendCounts };
    },
  );
  return {
    data: result.data,
    recvCounts: result.recvCounts,
    sendCounts: result.sendCounts,
    epoch: go.epoch,
    members: [...go.members],
  };
}
