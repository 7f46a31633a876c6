export {
  type AllToAllVResult,
  allToAllV as flatAllToAllV,
  flatAllToAll,
} from './algorithms/all-to-all.js';
export { barrier } from './algorithms/barrier.js';
export {
  type AllReduceAlgorithm,
  type AllToAllAlgorithm,
  type ChoiceInput,
  type CollectiveAlgorithm,
  chooseAllReduceAlgorithm,
  chooseAllToAllAlgorithm,
  SMALL_ALL_REDUCE_BYTES,
  SMALL_ALL_TO_ALL_CHUNK_BYTES,
  TREE_ALL_REDUCE_BYTES,
} from './algorithms/choose.js';
export {
  allReduce,
  allToAll,
  allToAllV,
  type CollectiveOptions,
  resolveAllReduceAlgorithm,
  resolveAllToAllAlgorithm,
} from './algorithms/collectives.js';
export type { AlgorithmOptions, Reducer } from './algorithms/context.js';
export { halvingDoublingAllReduce } from './algorithms/halving-doubling.js';
export {
  hierarchicalAllToAll,
  hierarchicalAllToAllV,
} from './algorithms/hierarchical-all-to-all.js';
export { type HoRingOptions, hoRingAllReduce } from './algorithms/ho-ring.js';
export { ringAllGather, ringAllReduce, ringReduceScatter } from './algorithms/ring.js';
export { recvArray, sendArray } from './algorithms/send-recv.js';
export { subGroup } from './algorithms/sub-group.js';
export { hostsOf, type Topology, uniformTopology } from './algorithms/topology.js';
export { treeAllReduce, treeBroadcast, treeReduce } from './algorithms/tree.js';
export {
  bf16Codec,
  type CompressionCodec,
  type CompressionCodecName,
  codecFor,
  type FloatArray,
  fp16Codec,
  int8BlockCodec,
} from './compression/codecs.js';
export {
  type CompressedAllReducer,
  type CompressedAllReducerOptions,
  type CompressedCallOptions,
  createCompressedAllReducer,
} from './compression/compressed-all-reduce.js';
export { createDiLoCo, type DiLoCoOptions, type DiLoCoWorker } from './diloco/diloco.js';
export { outerNesterovStep } from './diloco/outer-nesterov.js';
export { type CollectivesErrorCode, PlexusCollectivesError } from './errors.js';
export {
  type Coordinator,
  type CoordinatorOptions,
  type CoordinatorStats,
  startCoordinator,
} from './fault-tolerance/coordinator.js';
export {
  createFaultTolerantGroup,
  type FaultToleranceEvent,
  type FaultTolerantAllToAllVResult,
  type FaultTolerantCallOptions,
  FaultTolerantGroup,
  type FaultTolerantGroupOptions,
  type FaultTolerantSplit,
  type RoundInfo,
  type SplitView,
  type SyncResult,
  type TopologyResult,
} from './fault-tolerance/group.js';
export type { KeyDigest, RoundKind, StateDigest } from './fault-tolerance/protocol.js';
export {
  digestState,
  type SharedState,
  type SharedTensor,
} from './fault-tolerance/state-hash.js';
export { type LaunchArgs, parseLaunchArgs } from './launcher/args.js';
export {
  type LaunchOptions,
  type LaunchResult,
  launch,
  type WorkerExit,
} from './launcher/launch.js';
export {
  type InitProcessGroupOptions,
  initProcessGroup,
  type ProcessGroup,
  type ProcessGroupTransport,
} from './process-group.js';
export { finishAvg, reduceInto, segmentBounds } from './reduce.js';
export { type DTypeName, dtypeOf, type ElementArray } from './reduction/dtype.js';
export { finishAverage, jsReduceInto } from './reduction/js-reduce.js';
export { defaultWasmKernel, reduceElements, WASM_MIN_ELEMENTS } from './reduction/reducer.js';
export {
  createWasmReductionKernel,
  type WasmReductionKernel,
  type WasmReductionKernelOptions,
  wasmReductionAvailable,
} from './reduction/wasm-kernel.js';
export {
  type SpawnedThreadGroup,
  type SpawnThreadGroupOptions,
  serveThreadGroupWorker,
  spawnThreadGroup,
} from './spawn.js';
export {
  createRedisStore,
  type RedisCommandClient,
  type RedisStoreOptions,
} from './store/redis-store.js';
export { createTcpStore, type TcpStore, type TcpStoreOptions } from './store/tcp-store.js';
export {
  startTcpStoreServer,
  type TcpStoreServer,
  type TcpStoreServerOptions,
} from './store/tcp-store-server.js';
export type { StoreCallOptions, StoreV1, StoreValue } from './store/types.js';
export {
  allGatherTensor,
  allReduceTensor,
  allToAllTensor,
  broadcastTensor,
  reduceScatterTensor,
  type TensorCallOptions,
} from './tensor/tensor-collectives.js';
export {
  type CreateThreadGroupOptions,
  createThreadGroup,
  type JoinThreadGroupOptions,
  joinThreadGroup,
  type ThreadGroupDescriptor,
} from './thread-group.js';
export {
  createInMemoryNetwork,
  type InMemoryNetwork,
  type InMemoryNetworkOptions,
  type InMemoryNetworkStats,
  type LinkModel,
} from './transport/in-memory.js';
export type { PointToPointCallOptions, PointToPointV1 } from './transport/point-to-point.js';
export type { ElementArrayType } from './transport/shm/shared-buffers.js';
export {
  createShmTransport,
  type ShmTransport,
  type ShmTransportOptions,
} from './transport/shm/shm-transport.js';
export {
  createTcpTransport,
  type TcpTransport,
  type TcpTransportOptions,
} from './transport/tcp/tcp-transport.js';
export {
  createThreadTransport,
  type ThreadTransportOptions,
} from './transport/thread-transport.js';
export { createTransportGroup, type TransportGroupOptions } from './transport/transport-group.js';
export type {
  AsyncCallOptions,
  CollectiveBuffer,
  CollectiveCallOptions,
  CollectiveGroupV1,
  ExtendedCollectiveGroupV1,
  GroupAllToAllVResult,
  GroupBuffer,
  ReduceOp,
  Work,
} from './types.js';
