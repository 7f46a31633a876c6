export type { AttentionPool, AttentionPoolOptions } from './attention-pool.js';
export { createAttentionPool } from './attention-pool.js';
export { globalMaxPool, globalMeanPool, globalSumPool } from './global-pool.js';
