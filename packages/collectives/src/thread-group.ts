import { createThreadTransport, type ThreadGroupDescriptor } from './transport/thread-transport.js';
import { createTransportGroup } from './transport/transport-group.js';
import type { ExtendedCollectiveGroupV1 } from './types.js';

export {
  type CreateThreadGroupOptions,
  createThreadGroup,
  type ThreadGroupDescriptor,
} from './transport/thread-transport.js';

/** Options for `joinThreadGroup`. */
export interface JoinThreadGroupOptions {
  /** Default per-call timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
}

/**
 * Joins the group described by `descriptor` as `rank` (call once per
 * thread): the collectives of `createTransportGroup` over the
 * SharedArrayBuffer channels of `createThreadTransport`.
 */
export function joinThreadGroup(
  descriptor: ThreadGroupDescriptor,
  rank: number,
  options: JoinThreadGroupOptions = {},
): ExtendedCollectiveGroupV1 {
  const transport = createThreadTransport(descriptor, rank, options);
  return createTransportGroup(transport, { ...options, module: 'thread-group' });
}
