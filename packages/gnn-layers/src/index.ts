export { GnnLayersError } from './errors.js';
export type { FeaturesToInputOptions } from './features.js';
export { disposeInput, featuresToInput } from './features.js';
export type { OperatorKind } from './graph-operators.js';
export { aggregationMatrix, aggregationRowIds, disposeGraphOperators } from './graph-operators.js';
export { glorotUniform } from './init.js';
export type { EdgeArcs } from './layers/edge-arcs.js';
export { edgeArcs } from './layers/edge-arcs.js';
export type { GatConvOptions } from './layers/gat-conv.js';
export { createGatConv } from './layers/gat-conv.js';
export type { GatedGcn, GatedGcnOptions, GatedGcnOutput } from './layers/gated-gcn.js';
export { createGatedGcn } from './layers/gated-gcn.js';
export type { GcnConvOptions } from './layers/gcn-conv.js';
export { createGcnConv } from './layers/gcn-conv.js';
export type { GinConvOptions } from './layers/gin-conv.js';
export { createGinConv } from './layers/gin-conv.js';
export type { GineConv, GineConvOptions } from './layers/gine-conv.js';
export { createGineConv } from './layers/gine-conv.js';
export type { LayerInput, SparseRows } from './layers/input.js';
export { dropoutInput, inputShape, isSparseRows, project } from './layers/input.js';
export type { ApplyContext, GnnLayerV1 } from './layers/layer.js';
export type { SageConvOptions } from './layers/sage-conv.js';
export { createSageConv } from './layers/sage-conv.js';
export type {
  Completion,
  CompletionSide,
  HeldOutLinks,
  LinkPairs,
  LinkSplit,
  LinkTargets,
  NcncSide,
  NcnPredictor,
  NcnPredictorOptions,
  NcnStructure,
  SplitLinksOptions,
} from './link/index.js';
export {
  checkPairs,
  commonNeighbourMatrix,
  completionMatrices,
  createNcnPredictor,
  dotProductScores,
  hitsAtK,
  linkAuc,
  prepareLinkTargets,
  sampleNonEdges,
  splitLinks,
} from './link/index.js';
export type {
  AggregateFn,
  Aggregation,
  AggregationName,
  ArcOrder,
  Flow,
  MessageContext,
  MessageFn,
  MessagePassingOptions,
  PropagateOptions,
  SoftmaxAggregation,
  SoftmaxAggregationOptions,
  SoftmaxAggregationSpec,
  SourceCopy,
} from './message-passing/index.js';
export {
  createSoftmaxAggregation,
  disposePropagateCache,
  MessagePassing,
  propagate,
} from './message-passing/index.js';
export type {
  NodeClassifier,
  NodeClassifierConfig,
  NodeModelName,
} from './models/node-classifier.js';
export { createNodeClassifier, NODE_MODELS, PAPER_CONFIGS } from './models/node-classifier.js';
export type { AttentionPool, AttentionPoolOptions } from './pooling/index.js';
export {
  createAttentionPool,
  globalMaxPool,
  globalMeanPool,
  globalSumPool,
} from './pooling/index.js';
export type {
  Interactions,
  UltraGcnBatch,
  UltraGcnLossOptions,
} from './recsys/ultragcn-loss.js';
export { ultraGcnBeta, ultraGcnConstraintLoss } from './recsys/ultragcn-loss.js';
export type {
  CoGnnAction,
  CoGnnModel,
  CoGnnModelOptions,
  DrewModel,
  DrewModelOptions,
  GatedAggregation,
  GumbelSoftmaxOptions,
  RingAggregation,
  TideConv,
  TideConvOptions,
} from './seed/index.js';
export {
  besselSeriesTerms,
  COGNN_ACTIONS,
  chebyshevFilter,
  createCoGnnModel,
  createDrewModel,
  createTideConv,
  disposeRingOperators,
  gatedMessages,
  gumbelSoftmax,
  heatChebyshevCoefficients,
  ringOperators,
  straightThrough,
} from './seed/index.js';
export type {
  EpochMetrics,
  TrainNodeClassifierOptions,
  TrainResult,
} from './training/train-node-classifier.js';
export { trainNodeClassifier } from './training/train-node-classifier.js';
