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
    const logits = forwardPaged(
      this.model,
      this.store,
      entries.map((e) => ({ blockTable: e.blockTable, start: e.startPos, tokens: e.tokens })),
      {
        // Head only on the rows the engine samples from: every row of a draft being
        // verified, the last row of everything else (a prefill chunk's other rows are unused).
        allRowsOf: entries.map((e) => e.allLogits === true),
        onExpertLoad: (load) => {
          this.lastExpertLoad = load.map((l) => Array.from(l.load));
        },
      },
    );
    const v = this.vocabSize;
    const data = logits.dataSync() as Float32Array;
    logits.dispose();
    const rows: Float32Array[] = [];
    for (let r = 0; r < data.length / v; r++) rows.push(data.slice(r * v, (r + 1) * v));
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
