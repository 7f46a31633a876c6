// Layers of the seed papers (TIDE, DRew, Co-GNN); the package index re-exports these.
export { besselSeriesTerms, heatChebyshevCoefficients } from './bessel.js';
export type { CoGnnAction, CoGnnModel, CoGnnModelOptions } from './cognn.js';
export { COGNN_ACTIONS, createCoGnnModel } from './cognn.js';
export type { DrewModel, DrewModelOptions } from './drew.js';
export { createDrewModel } from './drew.js';
export type { GatedAggregation } from './gated-messages.js';
export { gatedMessages } from './gated-messages.js';
export type { GumbelSoftmaxOptions } from './gumbel.js';
export { gumbelSoftmax, straightThrough } from './gumbel.js';
export { chebyshevFilter } from './heat-kernel.js';
export type { RingAggregation } from './k-hop-rings.js';
export { disposeRingOperators, ringOperators } from './k-hop-rings.js';
export type { TideConv, TideConvOptions } from './tide-conv.js';
export { createTideConv } from './tide-conv.js';
