// Layers of the seed papers (TIDE, DRew, Co-GNN); the package index re-exports these.
export { besselSeriesTerms, heatChebyshevCoefficients } from './bessel.js';
export { chebyshevFilter } from './heat-kernel.js';
export type { TideConv, TideConvOptions } from './tide-conv.js';
export { createTideConv } from './tide-conv.js';
