// Public API of @plexus/graph-core: explicit named re-exports, sorted by module path.
export {
  type ApproximateResistanceOptions,
  adaptiveHighDegreeAttack,
  adjustedRandIndex,
  approximateResistances,
  type BottomUpOptions,
  balancedFormanCurvature,
  bottomUpHierarchy,
  commuteTime,
  commuteTimeMatrix,
  coreHdAttack,
  cutDendrogram,
  type Dendrogram,
  effectiveResistance,
  effectiveResistanceMatrix,
  expandSummary,
  type GreedyResistanceOptions,
  type GreedyResistanceResult,
  greedyResistanceRewiring,
  type HctgaOptions,
  type HierarchicalSummary,
  hctgaAttack,
  isKCoreAttackSet,
  type KCoreAttackOptions,
  type KCoreAttackResult,
  kCoreMask,
  type LaplacianSolveOptions,
  type LaserOptions,
  type LaserResult,
  laplacianDiagonal,
  laplacianPseudoinverse,
  laser,
  normalizedAdjacencyEigenvectors,
  type ResistanceSketch,
  type RewiringResult,
  residualKCoreSize,
  type SdrfOptions,
  type SluggerOptions,
  type SluggerResult,
  sdrf,
  slugger,
  solveLaplacian,
  spectralClustering,
  spectralEmbedding,
  summaryCost,
  supernodeMembers,
  type TopDownOptions,
  topDownHierarchy,
  totalEffectiveResistance,
  type UndirectedEdge,
} from './algorithms/index.js';
export {
  type LouvainOptions,
  type LouvainResult,
  louvainCommunities,
} from './communities/louvain.js';
export { modularity } from './communities/modularity.js';
export { coreNumbers, kCoreNodes } from './cores/core-number.js';
export type { CsrGraphBatch } from './csr/batch.js';
export type {
  BuiltCsr,
  DuplicateWeightMerge,
  FromEdgesOptions,
  SelfLoopPolicy,
} from './csr/build.js';
export {
  CsrGraph,
  type CsrGraphFromArraysOptions,
  type CsrGraphInit,
  type DegreeDirection,
  type KHopNeighbourhood,
  type Subgraph,
} from './csr/csr-graph.js';
export {
  type DenseFeatures,
  densifyFeatures,
  featureRows,
  isSparseFeatures,
  type NodeFeatures,
  rowNormalizeFeatures,
  type SparseFeatures,
} from './csr/features.js';
export type { DatasetFileSpec, DatasetMeta } from './datasets/meta.js';
export { type DatasetSplit, type GraphDataset, loadDatasetFromDir } from './datasets/planetoid.js';
export {
  BUNDLED_DATASETS,
  type BundledDatasetName,
  bundledDatasetDir,
  loadDataset,
} from './datasets/registry.js';
export { type DatasetToWrite, writeDatasetDir } from './datasets/write.js';
export { type FastRPOptions, fastRP } from './embeddings/fastrp.js';
export {
  canonicalSign,
  type LaplacianPE,
  type LaplacianPEOptions,
  laplacianPE,
} from './embeddings/laplacian-pe.js';
export {
  type RandomFeaturePropagationOptions,
  randomFeaturePropagation,
} from './embeddings/random-feature-propagation.js';
export { randomWalkPE } from './embeddings/random-walk-pe.js';
export { GraphCoreError } from './errors.js';
export {
  grid2d,
  type LatticeResult,
  type MeshResult,
  triangulatedMesh,
} from './generators/lattice.js';
export {
  type LongRangeTask,
  type RingTransferOptions,
  ringTransfer,
  type TreeNeighborsMatchOptions,
  treeNeighborsMatch,
} from './generators/long-range.js';
export {
  barabasiAlbert,
  erdosRenyi,
  randomRegular,
  type SeedOptions,
} from './generators/random-graphs.js';
export {
  type HierarchicalSbmOptions,
  type HierarchicalSbmResult,
  hierarchicalSbm,
  type SbmResult,
  stochasticBlockModel,
} from './generators/sbm.js';
export {
  type FromGraphologyOptions,
  type FromGraphologyResult,
  fromGraphology,
  fromGraphologyJSON,
  type ToGraphologyOptions,
  toGraphology,
  toGraphologyJSON,
} from './graphology/bridge.js';
export {
  type EdgeListReadOptions,
  formatEdgeList,
  parseEdgeList,
  readEdgeList,
  writeEdgeList,
} from './io/edge-list.js';
export { readGraphologyJson, writeGraphologyJson } from './io/graphology-json.js';
export { Rng } from './random/rng.js';
export {
  type BfsOptions,
  bfsDistances,
  bfsInto,
  type DistanceRings,
  distanceRings,
  multiSourceBfs,
} from './traversal/bfs.js';
export { type Components, connectedComponents } from './traversal/components.js';
