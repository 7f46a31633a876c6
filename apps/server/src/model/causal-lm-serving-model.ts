import type { BlockCopy } from '@plexus/kv-cache';
import { PagedKvStorage } from '@plexus/kv-cache';
import { type CausalLM, forwardPaged } from '@plexus/models';
import type { ModelStepEntry, ServingModelV1 } from '../engine/model.js';

/**
 * Serves a `@plexus/models` Llama/Mixtral model: one batched paged forward
 * per engine step over the K/V store the block tables index.
 */
export class CausalLmServingModel implements ServingModelV1 {
  readonly specificationVersion = 'v1';
  readonly vocabSize: number;
  readonly maxContextLength: number;
  private store: PagedKvStorage | undefined;
  private lastExpertLoad: number[][] = [];

  constructor(
    readonly model: CausalLM,
    readonly id: string,
  ) {
    this.vocabSize = model.config.vocab_size;
    this.maxContextLength = model.config.max_position_embeddings;
  }

  allocateCache({ numBlocks, blockSize }: { numBlocks: number; blockSize: number }): void {
    const c = this.model.config;
    this.store = new PagedKvStorage({
      numLayers: c.num_hidden_layers,
      numBlocks,
      blockSize,
      numKvHeads: c.num_key_value_heads,
      headDim: c.head_dim,
    });
  }

  step(entries: readonly ModelStepEntry[]): Float32Array[] {
    if (!this.store) throw new Error('allocateCache must run before step');
    const all = entries.some((e) => e.allLogits);
    const logits = forwardPaged(
      this.model,
      this.store,
      entries.map((e) => ({ blockTable: e.blockTable, start: e.startPos, tokens: e.tokens })),
      {
        lastOnly: !all,
        onExpertLoad: (load) => {
          this.lastExpertLoad = load.map((l) => Array.from(l.load));
        },
      },
    );
    const v = this.vocabSize;
    const data = logits.dataSync() as Float32Array;
    logits.dispose();
    const rows: Float32Array[] = [];
    let offset = 0;
    for (const e of entries) {
      const n = all ? e.tokens.length : 1;
      if (!all || e.allLogits) {
        for (let i = 0; i < n; i++) rows.push(data.slice((offset + i) * v, (offset + i + 1) * v));
      } else rows.push(data.slice((offset + n - 1) * v, (offset + n) * v));
      offset += n;
    }
    return rows;
  }

  /** Tokens per expert in each MoE layer during the last step (empty for dense models). */
  expertLoad(): readonly (readonly number[])[] {
    return this.lastExpertLoad;
  }

  copyBlocks(copies: readonly BlockCopy[]): void {
    this.store?.copyBlocks(copies);
  }
}
