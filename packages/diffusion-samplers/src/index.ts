export { adamsBashforthWeights } from './cache/adams-bashforth.js';
export {
  type CacheContext,
  type CachedNetwork,
  createFeatureCache,
  type FeatureCache,
  type FeatureCacheOptions,
  type FeatureCacheStats,
  uniformCacheSchedule,
} from './cache/feature-cache.js';
export { cacheScheduleDp, reuseErrorMatrix } from './cache/schedule-dp.js';
export { type ApdDecoderSettings, createApdDecoder } from './dlm/apd.js';
export { DlmKvStore, type DlmKvStoreOptions } from './dlm/kv-store.js';
export {
  createLowConfidenceDecoder,
  createMaskedDecoder,
  createThresholdDecoder,
  type DlmCacheMode,
  type LowConfidenceDecoderSettings,
  type MaskedDecoderSettings,
  type ThresholdDecoderSettings,
  type TransferRule,
} from './dlm/masked-decoder.js';
export { pickThreshold, pickTopK, transferSchedule } from './dlm/select.js';
export type {
  AutoregressiveLmV1,
  DlmDecodeArgs,
  DlmDecodeResult,
  DlmDecoderV1,
  DlmKv,
  DlmPartialForward,
  DlmPartialOutput,
  DlmStepTrace,
  MaskedDiffusionLmKvHooksV1,
  MaskedDiffusionLmV1,
} from './dlm/types.js';
export { DiffusionSamplersError } from './errors.js';
export { classifierFreeGuidance, type GuidanceOptions } from './model/guidance.js';
export {
  createEdmModel,
  createVeModel,
  createVpModel,
  type EdmModelOptions,
  type ModelKind,
  type ModelSpec,
  type PredictionType,
  type VeModelOptions,
  type VpModelOptions,
} from './model/parameterisation.js';
export { applyThresholding, type Thresholding } from './model/thresholding.js';
export {
  type GaussianMixture,
  gmmEpsilon,
  gmmVpDenoiser,
  sampleGmm,
  validateMixture,
} from './oracle/gmm.js';
export { logLogSlope, meanL2, slicedW2 } from './oracle/metrics.js';
export { PortableRng } from './oracle/portable-rng.js';
export { solvePfOde } from './oracle/reference.js';
export {
  type PatchParallelArgs,
  patchDenoiserAsDenoiser,
  patchParallelSample,
} from './parallel/distrifusion.js';
export {
  fieldEpsilonMatrix,
  type GaussianField,
  gaussianField,
  gaussianFieldDenoiser,
} from './parallel/gaussian-field.js';
export { type ParaStepArgs, paraStepLatencyCalls, paraStepSample } from './parallel/parastep.js';
export type {
  ParallelSampleResult,
  ParallelStats,
  PatchContextV1,
  PatchDenoiser,
} from './parallel/types.js';
export { createDpmSolverPlusPlus, type DpmSolverPlusPlusSettings } from './samplers/dpmpp.js';
export {
  createDdim,
  createDdpm,
  createEuler,
  createEulerAncestral,
  createHeun,
  type DdimSettings,
  type DdpmSettings,
  type EulerAncestralSettings,
  type HeunSettings,
} from './samplers/first-order.js';
export { createLms, createPndm, type LmsSettings } from './samplers/multistep.js';
export { StepNoise } from './samplers/noise.js';
export type {
  DenoiseInfo,
  Denoiser,
  SampleArgs,
  SamplerV1,
  StepEvent,
} from './samplers/types.js';
export { createUniPc, type UniPcSettings } from './samplers/unipc.js';
export {
  alphasCumprod,
  type BetaScheduleKind,
  type BetaScheduleOptions,
  betaSchedule,
} from './schedules/betas.js';
export { DiscreteVpSchedule } from './schedules/discrete-vp.js';
export {
  exponentialSigmas,
  type FinalSigma,
  karrasSigmas,
  roundHalfEven,
  type SamplingGrid,
  sigmaGrid,
  type TimestepSpacing,
  timestepSpacing,
  type VpGridOptions,
  vpGrid,
} from './schedules/grid.js';
export { validateCount, validateSigmas } from './schedules/validate.js';
