// Graph algorithms of @plexus/graph-core; re-exported from the package index.

export { type BottomUpOptions, bottomUpHierarchy } from './hierarchy/bottom-up.js';
export { adjustedRandIndex, cutDendrogram, type Dendrogram } from './hierarchy/dendrogram.js';
export {
  normalizedAdjacencyEigenvectors,
  spectralClustering,
  spectralEmbedding,
} from './hierarchy/spectral.js';
export { type TopDownOptions, topDownHierarchy } from './hierarchy/top-down.js';
export { type HctgaOptions, hctgaAttack } from './kcore-attack/hctga.js';
export { adaptiveHighDegreeAttack, coreHdAttack } from './kcore-attack/heuristics.js';
export { isKCoreAttackSet, kCoreMask, residualKCoreSize } from './kcore-attack/kcore.js';
export type { KCoreAttackOptions, KCoreAttackResult } from './kcore-attack/types.js';
export {
  type ApproximateResistanceOptions,
  approximateResistances,
  type ResistanceSketch,
} from './resistance/approx.js';
export { type LaplacianSolveOptions, solveLaplacian } from './resistance/cg.js';
export { laplacianPseudoinverse } from './resistance/dense.js';
export {
  commuteTime,
  commuteTimeMatrix,
  effectiveResistance,
  effectiveResistanceMatrix,
  totalEffectiveResistance,
} from './resistance/exact.js';
export { laplacianDiagonal } from './resistance/laplacian.js';
export type { RewiringResult, UndirectedEdge } from './rewiring/adjacency.js';
export { balancedFormanCurvature } from './rewiring/curvature.js';
export {
  type GreedyResistanceOptions,
  type GreedyResistanceResult,
  greedyResistanceRewiring,
} from './rewiring/greedy-resistance.js';
export { type LaserOptions, type LaserResult, laser } from './rewiring/laser.js';
export { type SdrfOptions, sdrf } from './rewiring/sdrf.js';
export { expandSummary, supernodeMembers } from './summary/decode.js';
export { type SluggerOptions, type SluggerResult, slugger } from './summary/slugger.js';
export { type HierarchicalSummary, summaryCost } from './summary/types.js';
