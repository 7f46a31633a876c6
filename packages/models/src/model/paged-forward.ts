import { type PagedKvSource, type PagedQuery, pagedAttention } from '@plexus/kv-cache';
import * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';
import { type AttendFn, type CausalLM, checkIds, type ExpertLoad } from './causal-lm.js';

/**
 * A paged K/V store the model writes to and paged attention reads:
 * `@plexus/kv-cache`'s `PagedKvStorage` or `QuantizedKvStorage`.
 */
export interface WritableKvStore extends PagedKvSource {
  /** Write K and V `[numTokens, numKvHeads, headDim]` at positions `startPos..` of `table`. */
  write(
    layer: number,
    table: readonly number[],
    startPos: number,
    k: Float32Array,
    v: Float32Array,
  ): void;
}

/**
 * New tokens of one sequence: `tokens` sit at positions `start..start+n-1`,
 * and positions `0..start-1` are already in the store through `blockTable`.
 * A prompt prefill has `start = 0` (or the prefix-cache hit length); a
 * decode step has one token at `start = length - 1`.
 */
export interface PagedChunk {
  readonly blockTable: readonly number[];
  readonly start: number;
  readonly tokens: ArrayLike<number>;
}

const MODULE = 'paged';

/**
 * One forward pass over a batch of ragged chunks against a paged KV cache
 * ("Efficient Memory Management for Large Language Model Serving with
 * PagedAttention", Kwon et al., 2023): each layer writes the chunks' K/V
 * through their block tables, then attends with `@plexus/kv-cache`'s paged
 * kernel (causal, GQA). Every chunk's K/V of a layer is written before any
 * chunk attends, so chunks that share prefix blocks in one call see them.
 * Returns logits `[total new tokens, vocab]`; with `lastOnly` one row per
 * chunk (its last token), which is what sampling needs; with `allRowsOf`
 * every row of the chunks it marks and the last row of the others
 * (speculative verification beside prefill chunks), so the head runs only on
 * the rows the caller samples from.
 */
export function forwardPaged(
  model: CausalLM,
  store: WritableKvStore,
  chunks: readonly PagedChunk[],
  options: {
    lastOnly?: boolean;
    /** Per chunk: `true` keeps all its rows, `false` only its last (implies `lastOnly` for the others). */
    allRowsOf?: readonly boolean[];
    /** Receives the per-layer expert load of this pass (MoE models; empty for dense ones). */
    onExpertLoad?: (load: readonly ExpertLoad[]) => void;
  } = {},
): tf.Tensor2D {
  const c = model.config;
  const { numKvHeads, headDim, numLayers } = store.layout;
  if (
    numKvHeads !== c.num_key_value_heads ||
    headDim !== c.head_dim ||
    numLayers < c.num_hidden_layers
  )
    throw new PlexusModelsError(
      MODULE,
      `store layout has ${numLayers} layers × ${numKvHeads} KV heads × ${headDim}; the model needs ${c.num_hidden_layers} × ${c.num_key_value_heads} × ${c.head_dim}`,
    );
  if (chunks.length === 0) throw new PlexusModelsError(MODULE, 'expected at least one chunk');
  let total = 0;
  for (const [i, ch] of chunks.entries()) {
    if (ch.tokens.length < 1 || !Number.isInteger(ch.start) || ch.start < 0)
      throw new PlexusModelsError(
        MODULE,
        `chunk ${i} has ${ch.tokens.length} tokens at ${ch.start}; expected at least 1 at a position >= 0`,
      );
    if (ch.start + ch.tokens.length > c.max_position_embeddings)
      throw new PlexusModelsError(
        MODULE,
        `chunk ${i} reaches position ${ch.start + ch.tokens.length}; max_position_embeddings is ${c.max_position_embeddings}`,
      );
    checkIds(ch.tokens, c.vocab_size);
    total += ch.tokens.length;
  }
  const ids = new Int32Array(total);
  const positions = new Int32Array(total);
  const queries: PagedQuery[] = [];
  const lastRows = new Int32Array(chunks.length);
  let at = 0;
  for (const [i, ch] of chunks.entries()) {
    for (let t = 0; t < ch.tokens.length; t++) {
      ids[at + t] = ch.tokens[t]!;
      positions[at + t] = ch.start + t;
    }
    queries.push({ blockTable: ch.blockTable, queryStart: ch.start, numQueries: ch.tokens.length });
    at += ch.tokens.length;
    lastRows[i] = at - 1;
  }
  const row = numKvHeads * headDim;
  const attend: AttendFn = (layer, q, k, v) => {
    const kd = k.dataSync() as Float32Array;
    const vd = v.dataSync() as Float32Array;
    let off = 0;
    for (const ch of chunks) {
      const n = ch.tokens.length;
      store.write(
        layer,
        ch.blockTable,
        ch.start,
        kd.subarray(off * row, (off + n) * row),
        vd.subarray(off * row, (off + n) * row),
      );
      off += n;
    }
    const out = pagedAttention(store, layer, q.dataSync() as Float32Array, queries, {
      numHeads: c.num_attention_heads,
    });
    return tf.tensor2d(out, [total, c.num_attention_heads * headDim]);
  };
  return tf.tidy(() => {
    const { hidden, expertLoad } = model.hidden(ids, positions, attend, false);
    options.onExpertLoad?.(expertLoad);
    const rows = options.allRowsOf
      ? selectedRows(chunks, options.allRowsOf)
      : options.lastOnly
        ? lastRows
        : null;
    const h = rows ? tf.gather(hidden, tf.tensor1d(rows, 'int32')) : hidden;
    return model.head(h as tf.Tensor2D);
  });
}

/** Row indices of every token of the chunks marked in `all`, and of the last token of the others. */
function selectedRows(chunks: readonly PagedChunk[], all: readonly boolean[]): Int32Array {
  if (all.length !== chunks.length)
    throw new PlexusModelsError(
      MODULE,
      `allRowsOf has ${all.length} entries for ${chunks.length} chunks; expected one per chunk`,
    );
  const rows: number[] = [];
  let at = 0;
  chunks.forEach((ch, i) => {
    const n = ch.tokens.length;
    if (all[i]) for (let t = 0; t < n; t++) rows.push(at + t);
    else rows.push(at + n - 1);
    at += n;
  });
  return Int32Array.from(rows);
}
