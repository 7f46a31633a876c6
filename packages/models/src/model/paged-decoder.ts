import {
  BlockManager,
  type BlockSize,
  type KvCacheV1,
  PagedKvStorage,
  type SequenceId,
} from '@plexus/kv-cache';
import type * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';
import type { CausalLM } from './causal-lm.js';
import { forwardPaged, type PagedChunk, type WritableKvStore } from './paged-forward.js';

/** Options of {@link PagedDecoder}. */
export interface PagedDecoderOptions {
  /** Device blocks in the pool (ignored when `cache` is given). */
  readonly numBlocks?: number;
  /** Tokens per block: 8, 16 (default) or 32. */
  readonly blockSize?: BlockSize;
  /** Share cached prompt prefixes between sequences; default true. */
  readonly enablePrefixCaching?: boolean;
  /** A block manager to use instead of a new one. */
  readonly cache?: KvCacheV1;
  /** A K/V store to use instead of a new float32 `PagedKvStorage` (e.g. a quantised one). */
  readonly store?: WritableKvStore & {
    copyBlocks?(copies: readonly { src: number; dst: number; numTokens: number }[]): void;
  };
}

/**
 * Batched autoregressive decoding over a `@plexus/kv-cache` paged cache: a
 * `KvCacheV1` block manager hands out blocks (with prefix sharing and
 * copy-on-write), a paged store holds every layer's K/V, and the model runs
 * {@link forwardPaged}. `prefill` adds prompts, `decode` appends one token
 * per sequence; both return logits the caller samples from and disposes.
 */
export class PagedDecoder {
  readonly model: CausalLM;
  readonly cache: KvCacheV1;
  readonly store: NonNullable<PagedDecoderOptions['store']>;

  constructor(model: CausalLM, options: PagedDecoderOptions = {}) {
    this.model = model;
    const c = model.config;
    this.cache =
      options.cache ??
      new BlockManager({
        numBlocks: options.numBlocks ?? 256,
        blockSize: options.blockSize ?? 16,
        enablePrefixCaching: options.enablePrefixCaching ?? true,
      });
    this.store =
      options.store ??
      new PagedKvStorage({
        numLayers: c.num_hidden_layers,
        numBlocks: this.cache.numBlocks,
        blockSize: this.cache.blockSize,
        numKvHeads: c.num_key_value_heads,
        headDim: c.head_dim,
      });
  }

  /**
   * Add prompts and run them. Returns logits `[prompts, vocab]` of each
   * prompt's last token, or with `allPositions` `[computed tokens, vocab]`
   * for every computed position (prompts in order; a prefix-cache hit skips
   * its cached positions, see `numCachedTokens` of the result).
   */
  prefill(
    requests: readonly { readonly id: SequenceId; readonly tokens: ArrayLike<number> }[],
    options: { allPositions?: boolean } = {},
  ): { logits: tf.Tensor2D; numCachedTokens: number[] } {
    const chunks: PagedChunk[] = [];
    const cached: number[] = [];
    const added: SequenceId[] = [];
    try {
      for (const r of requests) {
        if (r.tokens.length < 1)
          throw new PlexusModelsError(
            'decoder',
            `sequence ${r.id} has an empty prompt; expected at least one token`,
          );
        if (this.cache.canAdmit(r.tokens) === 'never')
          throw new PlexusModelsError(
            'decoder',
            `sequence ${r.id}'s ${r.tokens.length}-token prompt can never fit in ${this.cache.numBlocks} blocks of ${this.cache.blockSize}`,
          );
        const { blockTable, numCachedTokens } = this.cache.addSequence(r.id, r.tokens);
        added.push(r.id);
        cached.push(numCachedTokens);
        chunks.push({
          blockTable,
          start: numCachedTokens,
          tokens: Array.from(r.tokens).slice(numCachedTokens),
        });
      }
      const logits = forwardPaged(this.model, this.store, chunks, {
        lastOnly: !options.allPositions,
      });
      return { logits, numCachedTokens: cached };
    } catch (e) {
      for (const id of added) this.cache.free(id);
      throw e;
    }
  }

  /** Append one token to each sequence and return the next-token logits `[steps, vocab]`. */
  decode(steps: readonly { readonly id: SequenceId; readonly token: number }[]): tf.Tensor2D {
    const chunks: PagedChunk[] = [];
    for (const s of steps) {
      if (!this.cache.canAppend(s.id, 1))
        throw new PlexusModelsError(
          'decoder',
          `no free block to extend sequence ${s.id}; preempt or free a sequence first`,
        );
      const { copies } = this.cache.appendTokens(s.id, [s.token]);
      if (copies.length > 0) {
        if (!this.store.copyBlocks)
          throw new PlexusModelsError(
            'decoder',
            'the store cannot run copy-on-write copies; expected a store with copyBlocks',
          );
        this.store.copyBlocks(copies);
      }
      const length = this.cache.tokens(s.id).length;
      chunks.push({
        blockTable: this.cache.blockTable(s.id),
        start: length - 1,
        tokens: [s.token],
      });
    }
    return forwardPaged(this.model, this.store, chunks, { lastOnly: true });
  }

  /** Start `child` sharing every block of `parent` (parallel sampling, beams). */
  fork(parent: SequenceId, child: SequenceId): void {
    this.cache.fork(parent, child);
  }

  /** Release a finished sequence. */
  free(id: SequenceId): void {
    this.cache.free(id);
  }
}
