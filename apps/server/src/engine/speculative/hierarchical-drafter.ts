/** Where a draft came from, in the order the drafter looks. */
export type DraftSource = 'context' | 'model' | 'statistics';

/** Settings of {@link HierarchicalDrafter}. */
export interface DrafterSettings {
  /** n-gram lengths to match, longest first; default [3, 2]. */
  readonly ngramSizes?: readonly number[];
  /** Entries kept in the model-dependent database (LRU); default 8192. */
  readonly modelDbSize?: number;
  /** Token streams (e.g. the training corpus) for the statistics-dependent database. */
  readonly staticTokens?: readonly (readonly number[])[];
  /** Longest continuation stored per n-gram in the databases; default 8. */
  readonly storedLength?: number;
}

/** A proposed continuation. */
export interface Draft {
  readonly tokens: number[];
  readonly source: DraftSource | null;
}

const keyOf = (tokens: readonly number[], end: number, n: number): string =>
  tokens.slice(end - n, end).join(',');

/**
 * Model-free drafts for speculative decoding from hierarchical n-gram
 * databases, after "Lossless Acceleration of Large Language Models with
 * Hierarchical Drafting based on Temporal Locality in Speculative Decoding"
 * (Cho et al., 2024): look first where the next tokens most likely repeat —
 * the sequence's own context (prompt and output so far), then what the
 * model generated recently across requests, then static corpus statistics —
 * and take the first database that matches the last n tokens. Verification
 * by the target model keeps greedy outputs unchanged whatever is drafted.
 */
export class HierarchicalDrafter {
  private readonly sizes: readonly number[];
  private readonly modelDb = new Map<string, number[]>();
  private readonly staticDb = new Map<string, number[]>();
  private readonly modelDbSize: number;
  private readonly stored: number;

  constructor(settings: DrafterSettings = {}) {
    this.sizes = settings.ngramSizes ?? [3, 2];
    if (this.sizes.length === 0 || this.sizes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`ngramSizes must be positive integers, got [${this.sizes.join(', ')}]`);
    }
    this.modelDbSize = settings.modelDbSize ?? 8192;
    this.stored = settings.storedLength ?? 8;
    for (const stream of settings.staticTokens ?? []) this.index(this.staticDb, stream, Infinity);
  }

  /** Up to `maxTokens` draft tokens continuing `context`. */
  propose(context: readonly number[], maxTokens: number): Draft {
    if (maxTokens < 1) return { tokens: [], source: null };
    for (const n of this.sizes) {
      if (context.length <= n) continue;
      const found = this.fromContext(context, n, maxTokens);
      if (found.length > 0) return { tokens: found, source: 'context' };
    }
    for (const [db, source] of [
      [this.modelDb, 'model'],
      [this.staticDb, 'statistics'],
    ] as const) {
      for (const n of this.sizes) {
        if (context.length < n) continue;
        const key = keyOf(context, context.length, n);
        const hit = db.get(key);
        if (hit) {
          if (db === this.modelDb) {
            db.delete(key); // refresh its LRU position
            db.set(key, hit);
          }
          return { tokens: hit.slice(0, maxTokens), source };
        }
      }
    }
    return { tokens: [], source: null };
  }

  /** Records a model output (with its prompt) in the model-dependent database. */
  observe(tokens: readonly number[]): void {
    this.index(this.modelDb, tokens, this.modelDbSize);
  }

  private fromContext(context: readonly number[], n: number, maxTokens: number): number[] {
    const end = context.length;
    // Latest earlier occurrence of the last n tokens (temporal locality).
    for (let j = end - n - 1; j >= 0; j--) {
      let match = true;
      for (let t = 0; t < n; t++) {
        if (context[j + t] !== context[end - n + t]) {
          match = false;
          break;
        }
      }
      if (match) return context.slice(j + n, Math.min(j + n + maxTokens, end)) as number[];
    }
    return [];
  }

  private index(db: Map<string, number[]>, tokens: readonly number[], limit: number): void {
    for (const n of this.sizes) {
      for (let i = n; i < tokens.length; i++) {
        const key = keyOf(tokens, i, n);
        db.delete(key);
        db.set(key, tokens.slice(i, i + this.stored) as number[]);
        if (db.size > limit) db.delete(db.keys().next().value as string);
      }
    }
  }
}
