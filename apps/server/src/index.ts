export type {
  EngineOptions,
  GenerateRequest,
  GenerationHandle,
  StepInfo,
} from './engine/engine.js';
export { Engine, EngineRejection } from './engine/engine.js';
export type { ModelStepEntry, ServingModelV1, ServingTokenizerV1 } from './engine/model.js';
export type { EngineEvent } from './engine/request-group.js';
export type { SampledToken } from './engine/sampling.js';
export { logSoftmax, sampleToken } from './engine/sampling.js';
export type { FinishReason, SamplingParams } from './engine/sampling-params.js';
export { greedySampling } from './engine/sampling-params.js';
export type { MlfqSettings, SchedulerPolicy } from './engine/scheduler-policy.js';
export { cacheAwarePolicy, fcfsPolicy, skipJoinMlfqPolicy } from './engine/scheduler-policy.js';
export type {
  Draft,
  DrafterSettings,
  DraftSource,
} from './engine/speculative/hierarchical-drafter.js';
export { HierarchicalDrafter } from './engine/speculative/hierarchical-drafter.js';
export type { ServerOptions } from './http/build-server.js';
export { buildServer } from './http/build-server.js';
export { HttpError } from './http/openai-error.js';
export { ServerMetrics } from './metrics/server-metrics.js';
export { CausalLmServingModel } from './model/causal-lm-serving-model.js';
export type { LoadedModel } from './model/load-model-dir.js';
export { loadModelDir, servingTokenizer } from './model/load-model-dir.js';
export type { ServeOptions } from './serve-options.js';
export { parseServeOptions, SERVE_USAGE } from './serve-options.js';
export type { RunningServer } from './start-server.js';
export { startServer } from './start-server.js';
