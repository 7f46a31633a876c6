export { type CollectivesErrorCode, PlexusCollectivesError } from './errors.js';
export { finishAvg, reduceInto, segmentBounds } from './reduce.js';
export {
  type SpawnedThreadGroup,
  type SpawnThreadGroupOptions,
  serveThreadGroupWorker,
  spawnThreadGroup,
} from './spawn.js';
export {
  type CreateThreadGroupOptions,
  createThreadGroup,
  type JoinThreadGroupOptions,
  joinThreadGroup,
  type ThreadGroupDescriptor,
} from './thread-group.js';
export {
  createThreadTransport,
  type ThreadTransportOptions,
} from './transport/thread-transport.js';
export { createTransportGroup, type TransportGroupOptions } from './transport/transport-group.js';
export type {
  CollectiveBuffer,
  CollectiveCallOptions,
  CollectiveGroupV1,
  ReduceOp,
} from './types.js';
