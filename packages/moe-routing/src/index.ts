export { interLayerAffinity, predictNextExperts, prefetchHitRate } from './analysis/affinity.js';
export type { CachePolicy, CacheSimResult, CacheSimSettings } from './analysis/cache-sim.js';
export { simulateExpertCache } from './analysis/cache-sim.js';
export type { SrpResult } from './analysis/locality.js';
export { segmentCacheHitRate, segmentRoutingPerformance } from './analysis/locality.js';
export type { MergeResult, MergeSettings } from './analysis/merge.js';
export { mergeExpertsByClustering, remapRouting } from './analysis/merge.js';
export type { RoutingTrace } from './analysis/trace.js';
export { traceFromAssignments } from './analysis/trace.js';
export type { CapacityResult, CapacitySettings, DropOrder } from './capacity/capacity.js';
export { applyCapacity, expertCapacity } from './capacity/capacity.js';
export type { CapacityBound, CapacityBoundSettings } from './capacity/min-capacity.js';
export { expertCapacityLowerBound } from './capacity/min-capacity.js';
export { gateAngleDelta } from './capacity/min-capacity-delta.js';
export { MoeRoutingError } from './errors.js';
export type { ChainOfExpertsParams, ChainOfExpertsResult } from './layer/chain-of-experts.js';
export { chainOfExpertsForward, initChainOfExpertsParams } from './layer/chain-of-experts.js';
export type { ExpertFn } from './layer/dispatch.js';
export { dispatchDropless, dispatchPadded, sortByExpert } from './layer/dispatch.js';
export type { ExpertActivation, ExpertParams } from './layer/experts.js';
export {
  expertForward,
  expertsBatchedForward,
  expertTensors,
  gelu,
  initExpertParams,
} from './layer/experts.js';
export type {
  DispatchMode,
  MoEConfig,
  MoEForwardOptions,
  MoEForwardResult,
  MoEParams,
} from './layer/moe.js';
export { initMoEParams, moeForward } from './layer/moe.js';
export { disposeParams, MoELayer, paramTensors } from './layer/moe-layer.js';
export type { LocalityLossSettings } from './losses/locality-loss.js';
export { localityLoss } from './losses/locality-loss.js';
export { importanceLoss, loadBalancingLoss, routerZLoss } from './losses/losses.js';
export type { RoutingStats } from './losses/stats.js';
export { routingStats } from './losses/stats.js';
export type { CollectiveExchangeOptions } from './parallel/collective-exchange.js';
export { collectiveExchange } from './parallel/collective-exchange.js';
export type { AllToAllV } from './parallel/exchange.js';
export type {
  ExpertParallelConfig,
  ExpertParallelGrads,
  ExpertParallelParams,
  ExpertParallelStep,
  ExpertParallelTraffic,
} from './parallel/expert-parallel.js';
export { expertParallelForward } from './parallel/expert-parallel.js';
export { checkExpertPlacement, contiguousExpertPlacement } from './parallel/placement.js';
export type { BiLevelRouterSettings } from './routers/bi-level.js';
export { createBiLevelRouter } from './routers/bi-level.js';
export type { DeepSeekMoERouterSettings } from './routers/deepseek.js';
export { createDeepSeekMoERouter } from './routers/deepseek.js';
export type { ExpertChoiceRouterSettings } from './routers/expert-choice.js';
export { createExpertChoiceRouter } from './routers/expert-choice.js';
export type { GShardRouterSettings } from './routers/gshard.js';
export { createGShardRouter } from './routers/gshard.js';
export type { HashRouterSettings } from './routers/hash.js';
export { createHashRouter, hashToExpert } from './routers/hash.js';
export type { LocalityAwareRouterSettings } from './routers/locality-aware.js';
export { createLocalityAwareRouter, localAssignmentFraction } from './routers/locality-aware.js';
export type { LocMoERouterSettings } from './routers/locmoe.js';
export { createLocMoERouter } from './routers/locmoe.js';
export { grapGateLogits, grapGateWeight } from './routers/locmoe-gate.js';
export type { LossFreeBalancer, LossFreeBalancerSettings } from './routers/loss-free-balancer.js';
export { createLossFreeBalancer } from './routers/loss-free-balancer.js';
export type { NoisyTopKRouterSettings } from './routers/noisy-top-k.js';
export { createNoisyTopKRouter } from './routers/noisy-top-k.js';
export type { SwitchRouterSettings } from './routers/switch.js';
export { createSwitchRouter } from './routers/switch.js';
export type { TopKOrder, TopKRouterSettings } from './routers/top-k.js';
export { createTopKRouter } from './routers/top-k.js';
export type { RouterInput, RouterV1, Routing } from './routers/types.js';
export { disposeRouting } from './routers/types.js';
