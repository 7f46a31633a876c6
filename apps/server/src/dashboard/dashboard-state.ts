import type { Engine } from '../engine/engine.js';

/** What the dashboard polls. */
export interface DashboardState {
  readonly model: string;
  readonly running: number;
  readonly waiting: number;
  readonly usedBlocks: number;
  readonly numBlocks: number;
  /** Prefix-cache hits / lookups since start (0 when none yet). */
  readonly prefixHitRate: number;
  readonly tokensPerSecond: number;
  readonly generatedTokens: number;
  /** Accepted / drafted tokens of speculative decoding (null when nothing was drafted). */
  readonly draftAcceptance: number | null;
  /** Per layer, per expert token counts of the last step (MoE models only). */
  readonly expertLoad: readonly (readonly number[])[] | null;
}

/** Snapshot of the engine for the dashboard. */
export function dashboardState(engine: Engine, model: string): DashboardState {
  const s = engine.state();
  const kv = engine.manager.stats();
  return {
    model,
    running: s.running,
    waiting: s.waiting,
    usedBlocks: s.usedBlocks,
    numBlocks: s.numBlocks,
    prefixHitRate: kv.prefixQueries > 0 ? kv.prefixHits / kv.prefixQueries : 0,
    tokensPerSecond: engine.tokensPerSecond(),
    generatedTokens: engine.generatedTokens,
    draftAcceptance: engine.draftedTokens > 0 ? engine.acceptedTokens / engine.draftedTokens : null,
    expertLoad: engine.expertLoad() ?? null,
  };
}
