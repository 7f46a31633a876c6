import { PlexusKvCacheError } from '../errors.js';
import type { PagedKvSource } from '../storage/layout.js';

const MODULE = 'attention';

/**
 * One sequence's queries in a paged-attention call. Its queries sit at
 * positions `queryStart .. queryStart + numQueries - 1` and attend causally
 * to every cached position up to their own, so the K/V of the queries' own
 * tokens must already be written. Decode: `numQueries = 1`,
 * `queryStart = length - 1`. Chunked prefill: one chunk of a prompt.
 */
export interface PagedQuery {
  readonly blockTable: readonly number[];
  readonly queryStart: number;
  readonly numQueries: number;
}

/** Options of {@link pagedAttention}. */
export interface PagedAttentionOptions {
  /** Query heads; a multiple of the store's KV heads (GQA / MQA). */
  readonly numHeads: number;
  /** Logit scale. Default `1 / sqrt(headDim)`. */
  readonly scale?: number;
}

// Scratch grown on demand and reused across calls (single-threaded JS).
let scratch = new Float32Array(0);
function scratchOf(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch;
}

/**
 * Causal attention reading K and V through block tables, one block tile at a
 * time with an online (flash-style) softmax: never gathers a sequence's KV
 * into a dense array. `q` is `[totalQueries, numHeads, headDim]` with each
 * sequence's queries consecutive; returns the output in the same layout.
 * Query head `h` reads KV head `floor(h / (numHeads / numKvHeads))`.
 */
export function pagedAttention(
  source: PagedKvSource,
  layer: number,
  q: Float32Array,
  queries: readonly PagedQuery[],
  options: PagedAttentionOptions,
): Float32Array {
  const { blockSize: bs, numKvHeads: kvH, headDim: d } = source.layout;
  const H = options.numHeads;
  checkCall(source, layer, q, queries, H);
  const group = H / kvH;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const out = new Float32Array(q.length);
  const scores = new Float32Array(bs);
  let qBase = 0;
  for (const seq of queries) {
    const nq = seq.numQueries;
    const ctx = seq.queryStart + nq;
    const states = nq * group;
    const buf = scratchOf(states * (d + 2));
    const m = buf.subarray(0, states);
    const l = buf.subarray(states, 2 * states);
    const acc = buf.subarray(2 * states, states * (d + 2));
    for (let g = 0; g < kvH; g++) {
      m.fill(Number.NEGATIVE_INFINITY);
      l.fill(0);
      acc.fill(0);
      const numBlocks = Math.ceil(ctx / bs);
      for (let bi = 0; bi < numBlocks; bi++) {
        const start = bi * bs;
        const n = Math.min(bs, ctx - start);
        const block = seq.blockTable[bi]!;
        const kt = source.tile('k', layer, block, g, n);
        const kd = kt.data;
        const ko = kt.offset;
        const ks = kt.stride;
        const vt = source.tile('v', layer, block, g, n);
        const vd = vt.data;
        const vo = vt.offset;
        const vs = vt.stride;
        for (let qi = 0; qi < nq; qi++) {
          const pos = seq.queryStart + qi;
          if (start > pos) continue;
          const valid = Math.min(n, pos - start + 1);
          for (let hh = 0; hh < group; hh++) {
            const qOff = ((qBase + qi) * H + g * group + hh) * d;
            const s = qi * group + hh;
            let blockMax = Number.NEGATIVE_INFINITY;
            for (let j = 0; j < valid; j++) {
              const kOff = ko + j * ks;
              let dot = 0;
              for (let i = 0; i < d; i++) dot += q[qOff + i]! * kd[kOff + i]!;
              const sc = dot * scale;
              scores[j] = sc;
              if (sc > blockMax) blockMax = sc;
            }
            const mOld = m[s]!;
            const mNew = Math.max(mOld, blockMax);
            const aOff = s * d;
            if (mOld !== mNew && mOld !== Number.NEGATIVE_INFINITY) {
              const corr = Math.exp(mOld - mNew);
              l[s] = l[s]! * corr;
              for (let i = 0; i < d; i++) acc[aOff + i] = acc[aOff + i]! * corr;
            }
            let sum = l[s]!;
            for (let j = 0; j < valid; j++) {
              const w = Math.exp(scores[j]! - mNew);
              sum += w;
              const vOff = vo + j * vs;
              for (let i = 0; i < d; i++) acc[aOff + i] = acc[aOff + i]! + w * vd[vOff + i]!;
            }
            l[s] = sum;
            m[s] = mNew;
          }
        }
      }
      for (let qi = 0; qi < nq; qi++)
        for (let hh = 0; hh < group; hh++) {
          const s = qi * group + hh;
          const inv = 1 / l[s]!;
          const oOff = ((qBase + qi) * H + g * group + hh) * d;
          for (let i = 0; i < d; i++) out[oOff + i] = acc[s * d + i]! * inv;
        }
    }
    qBase += nq;
  }
  return out;
}

function checkCall(
  source: PagedKvSource,
  layer: number,
  q: Float32Array,
  queries: readonly PagedQuery[],
  numHeads: number,
): void {
  const { blockSize, numKvHeads, headDim, numLayers, numBlocks } = source.layout;
  if (!Number.isInteger(numHeads) || numHeads < 1 || numHeads % numKvHeads !== 0)
    throw new PlexusKvCacheError(
      MODULE,
      `numHeads is ${numHeads}; expected a positive multiple of numKvHeads (${numKvHeads})`,
    );
  if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers)
    throw new PlexusKvCacheError(
      MODULE,
      `layer ${layer} is out of range; expected [0, ${numLayers})`,
    );
  let total = 0;
  for (const [i, seq] of queries.entries()) {
    if (!Number.isInteger(seq.numQueries) || seq.numQueries < 1 || !(seq.queryStart >= 0))
      throw new PlexusKvCacheError(
        MODULE,
        `query ${i} has numQueries ${seq.numQueries} at ${seq.queryStart}; expected at least 1 at a position >= 0`,
      );
    const needed = Math.ceil((seq.queryStart + seq.numQueries) / blockSize);
    if (seq.blockTable.length < needed)
      throw new PlexusKvCacheError(
        MODULE,
        `query ${i}'s block table has ${seq.blockTable.length} blocks; expected at least ${needed}`,
      );
    for (let b = 0; b < needed; b++) {
      const id = seq.blockTable[b]!;
      if (!Number.isInteger(id) || id < 0 || id >= numBlocks)
        throw new PlexusKvCacheError(
          MODULE,
          `query ${i} names block ${id}; expected [0, ${numBlocks})`,
        );
    }
    total += seq.numQueries;
  }
  if (q.length !== total * numHeads * headDim)
    throw new PlexusKvCacheError(
      MODULE,
      `q has ${q.length} values; expected totalQueries * numHeads * headDim = ${total * numHeads * headDim}`,
    );
}
