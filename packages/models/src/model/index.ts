export { PlexusModelsError } from '../errors.js';
export type { AdamWSettings } from './adamw.js';
export { AdamW } from './adamw.js';
export type {
  AttendFn,
  ExpertLoad,
  ForwardOptions,
  ForwardResult,
  LossResult,
  TokenBatch,
  ValueAndGrads,
} from './causal-lm.js';
export { CausalLM, shiftTargets } from './causal-lm.js';
export { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
export type { ModelConfig, ModelConfigInput, ModelType } from './config.js';
export { configToJson, isMoE, MODEL_PRESETS, parseModelConfig, presetConfig } from './config.js';
export type { PagedDecoderOptions } from './paged-decoder.js';
export { PagedDecoder } from './paged-decoder.js';
export type { PagedChunk, WritableKvStore } from './paged-forward.js';
export { forwardPaged } from './paged-forward.js';
export type { ParamSpec } from './params.js';
export {
  countParams,
  EMBED,
  FINAL_NORM,
  initParamValues,
  LM_HEAD,
  layerNames,
  paramSpecs,
} from './params.js';
