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
export { GraphCoreError } from './errors.js';
