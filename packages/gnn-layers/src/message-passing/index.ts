export { disposePropagateCache } from './arc-plan.js';
export type { MessagePassingOptions } from './message-passing.js';
export { MessagePassing } from './message-passing.js';
export { propagate } from './propagate.js';
export type { SoftmaxAggregation, SoftmaxAggregationOptions } from './softmax.js';
export { createSoftmaxAggregation } from './softmax.js';
export type {
  AggregateFn,
  Aggregation,
  AggregationName,
  ArcOrder,
  Flow,
  MessageContext,
  MessageFn,
  PropagateOptions,
  SoftmaxAggregationSpec,
  SourceCopy,
} from './types.js';
