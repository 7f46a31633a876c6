import { type BlockCopy, PagedKvStorage, pagedAttention } from '@plexus/kv-cache';
import { SeededRandom } from '@plexus/tensor';
import type { ModelStepEntry, ServingModelV1, ServingTokenizerV1 } from '../src/engine/model.js';

const D = 8;

/**
 * A one-layer, one-head attention model over the real paged K/V store: its
 * next-token logits depend on every earlier token through the block tables,
 * so an engine bug in paging, prefix sharing or copy-on-write changes its
 * output. `referenceLogits` recomputes the same function densely from the
 * token list alone (no cache) — the independent reference.
 */
export class ToyPagedModel implements ServingModelV1 {
  readonly specificationVersion = 'v1';
  readonly id = 'toy';
  private kv: PagedKvStorage | undefined;
  private readonly emb: Float32Array;
  private readonly val: Float32Array;
  private readonly out: Float32Array;
  steps = 0;
  tokensProcessed = 0;

  constructor(
    readonly vocabSize: number,
    readonly maxContextLength = 512,
    seed = 1,
  ) {
    const rng = new SeededRandom(seed);
    this.emb = rng.fillNormal(new Float32Array(vocabSize * D));
    this.val = rng.fillNormal(new Float32Array(vocabSize * D));
    this.out = rng.fillNormal(new Float32Array(D * vocabSize), 0, 3);
  }

  allocateCache({ numBlocks, blockSize }: { numBlocks: number; blockSize: number }): void {
    this.kv = new PagedKvStorage({ numLayers: 1, numBlocks, blockSize, numKvHeads: 1, headDim: D });
  }

  private qk(token: number, pos: number): Float32Array {
    const r = new Float32Array(D);
    for (let j = 0; j < D; j++)
      r[j] = this.emb[token * D + j]! + Math.sin((pos + 1) * (j + 1) * 0.37);
    return r;
  }

  private project(h: Float32Array, o: number): Float32Array {
    const logits = new Float32Array(this.vocabSize);
    for (let v = 0; v < this.vocabSize; v++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += h[o + j]! * this.out[j * this.vocabSize + v]!;
      logits[v] = s;
    }
    return logits;
  }

  step(entries: readonly ModelStepEntry[]): Float32Array[] {
    const kv = this.kv!;
    this.steps++;
    const result: Float32Array[] = [];
    for (const e of entries) {
      const n = e.tokens.length;
      this.tokensProcessed += n;
      const k = new Float32Array(n * D);
      const v = new Float32Array(n * D);
      for (let t = 0; t < n; t++) {
        k.set(this.qk(e.tokens[t]!, e.startPos + t), t * D);
        v.set(this.val.subarray(e.tokens[t]! * D, (e.tokens[t]! + 1) * D), t * D);
      }
      kv.write(0, e.blockTable, e.startPos, k, v);
      const h = pagedAttention(
        kv,
        0,
        k,
        [{ blockTable: e.blockTable, queryStart: e.startPos, numQueries: n }],
        { numHeads: 1 },
      );
      if (e.allLogits) for (let t = 0; t < n; t++) result.push(this.project(h, t * D));
      else result.push(this.project(h, (n - 1) * D));
    }
    return result;
  }

  copyBlocks(copies: readonly BlockCopy[]): void {
    this.kv!.copyBlocks(copies);
  }

  /** Dense recomputation of the logits after `tokens` (no cache). */
  referenceLogits(tokens: readonly number[]): Float32Array {
    const n = tokens.length;
    const q = this.qk(tokens[n - 1]!, n - 1);
    const scores = tokens.map((t, p) => {
      const k = this.qk(t, p);
      let s = 0;
      for (let j = 0; j < D; j++) s += q[j]! * k[j]!;
      return s / Math.sqrt(D);
    });
    const m = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - m));
    const z = w.reduce((a, b) => a + b, 0);
    const h = new Float32Array(D);
    tokens.forEach((t, p) => {
      for (let j = 0; j < D; j++) h[j]! += (w[p]! / z) * this.val[t * D + j]!;
    });
    return this.project(h, 0);
  }

  /** Greedy continuation computed densely, stopping at `eos` or after `maxTokens`. */
  referenceGreedy(prompt: readonly number[], maxTokens: number, eos: number): number[] {
    const tokens = [...prompt];
    const out: number[] = [];
    while (out.length < maxTokens) {
      const logits = this.referenceLogits(tokens);
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      if (best === eos) break;
      out.push(best);
      tokens.push(best);
    }
    return out;
  }
}

const ALPHABET = '\u0000abcdefghijklmnopqrstuvwxyz .,!?ABCDEFGHIJ0123456789';

/** Character tokenizer over a small alphabet; id 0 is EOS. */
export const toyTokenizer: ServingTokenizerV1 = {
  eosTokenIds: [0],
  encode: (text) => [...text].map((c) => Math.max(1, ALPHABET.indexOf(c))),
  decode: (ids) => ids.map((i) => (i === 0 ? '' : (ALPHABET[i] ?? '?'))).join(''),
  applyChatTemplate: (messages, { addGenerationPrompt }) =>
    messages.map((m) => `${m.role}: ${m.content}\n`).join('') +
    (addGenerationPrompt ? 'assistant: ' : ''),
};

/** Vocabulary size of {@link toyTokenizer}. */
export const TOY_VOCAB = ALPHABET.length;
