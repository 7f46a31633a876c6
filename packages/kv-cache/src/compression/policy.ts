import { PlexusKvCacheError } from '../errors.js';

const MODULE = 'compression';

/** What a policy sees for one layer and one KV head when choosing tokens to keep. */
export interface EvictionInput {
  /** Tokens in the cache. */
  readonly length: number;
  readonly layer: number;
  readonly numLayers: number;
  /**
   * Scores the policy needs, by policy: H2O — accumulated attention each
   * position has received (`[length]`); SnapKV / PyramidKV — attention of the
   * last `window` queries to every position (`[window, length]`, row-major).
   * StreamingLLM needs none.
   */
  readonly scores?: Float32Array;
}

/**
 * A token eviction policy: for each layer a token budget, and for each
 * (layer, head) the positions to keep. `select` returns exactly
 * `min(budget(layer), length)` distinct positions, ascending. Heads are
 * selected independently (call `select` per head with that head's scores),
 * so per-head budgets are the layer's budget.
 */
export interface TokenEvictionPolicy {
  readonly name: string;
  /** Tokens kept per head in `layer`. */
  budget(layer: number, numLayers: number): number;
  /** Positions to keep, ascending. */
  select(input: EvictionInput): Int32Array;
}

/** Throw unless `n` is a non-negative integer. */
export function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0)
    throw new PlexusKvCacheError(MODULE, `${what} is ${n}; expected a non-negative integer`);
}

/** Throw unless `scores` is present with `expected` values. */
export function requireScores(
  input: EvictionInput,
  expected: number,
  policy: string,
): Float32Array {
  if (input.scores === undefined || input.scores.length !== expected)
    throw new PlexusKvCacheError(
      MODULE,
      `${policy} needs scores of ${expected} values; got ${input.scores?.length ?? 'none'}`,
    );
  return input.scores;
}

/**
 * Keep `forced` positions plus the `extra` highest-scoring other positions of
 * `[0, candidates)` (ties to the earlier position), ascending.
 */
export function keepTop(
  forced: readonly number[],
  candidates: number,
  score: (pos: number) => number,
  extra: number,
): Int32Array {
  const isForced = new Set(forced);
  const pool: number[] = [];
  for (let p = 0; p < candidates; p++) if (!isForced.has(p)) pool.push(p);
  pool.sort((a, b) => score(b) - score(a) || a - b);
  const keep = [...isForced, ...pool.slice(0, Math.max(0, extra))];
  return Int32Array.from(keep).sort();
}
