export type { AdapterReport } from './adapter-report.js';
export { adapterReport } from './adapter-report.js';
export type { ConformanceCase, ConformanceOptions } from './conformance.js';
export { kernelConformanceCases } from './conformance.js';
export { expectArraysClose } from './expect-close.js';
export { finiteDifferenceGradient } from './finite-difference.js';
export type { GraphCase } from './graph-cases.js';
export { graphCases } from './graph-cases.js';
export {
  referenceSegment,
  referenceSegmentSoftmax,
  referenceSpmm,
  referenceTopK,
} from './reference.js';
