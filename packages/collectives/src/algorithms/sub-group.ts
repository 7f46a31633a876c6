import { PlexusCollectivesError } from '../errors.js';
import type { PointToPointCallOptions, PointToPointV1 } from '../transport/point-to-point.js';

const MODULE = 'algorithms/sub-group';

/**
 * A `PointToPointV1` over a subset of ranks: rank `i` of the view is
 * `members[i]` of `p2p`. Every algorithm runs unchanged on a view, which is
 * how HO-Ring runs its intra-host and inter-host rings. The caller must be
 * one of `members`; closing the view does not close `p2p`.
 */
export function subGroup(p2p: PointToPointV1, members: readonly number[]): PointToPointV1 {
  const rank = members.indexOf(p2p.rank);
  if (rank < 0) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `rank ${p2p.rank} is not among the members [${members.join(', ')}]`,
    );
  }
  if (new Set(members).size !== members.length) {
    throw new PlexusCollectivesError(MODULE, 'invalid-argument', 'members must be distinct ranks');
  }
  const global = (local: number): number => {
    const g = members[local];
    if (g === undefined) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected a rank in [0, ${members.length - 1}] of the sub-group, got ${local}`,
      );
    }
    return g;
  };
  return {
    specificationVersion: 'v1',
    rank,
    worldSize: members.length,
    send: (dst: number, bytes: Uint8Array, options?: PointToPointCallOptions) =>
      p2p.send(global(dst), bytes, options),
    recv: (src: number, into?: Uint8Array, options?: PointToPointCallOptions) =>
      p2p.recv(global(src), into, options),
    close: async () => {},
  };
}
