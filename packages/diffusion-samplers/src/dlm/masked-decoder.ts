import * as tf from '@tensorflow/tfjs-core';
import { PortableRng } from '../oracle/portable-rng.js';
import { DlmKvStore } from './kv-store.js';
import { pickThreshold, pickTopK, predictRow, transferSchedule } from './select.js';
import type { DlmDecodeArgs, DlmDecodeResult, DlmDecoderV1, DlmPartialOutput } from './types.js';
import { checkDecodeArgs, checkPositiveInt, checkRange, dlmError } from './validate.js';

/**
 * K/V reuse of a masked decoder. `none`: every step runs the whole
 * sequence. `prefix` / `dual`: Fast-dLLM's block-wise approximate cache
 * (2025): a full pass at each block start stores every position's K/V; later
 * steps of the block recompute the block and the suffix (`prefix`) or only the
 * block (`dual`, the suffix K/V are reused too). `delayed`: dKV-Cache-Decode
 * ("dKV-Cache: The Cache for Diffusion Language Models", 2025): a token's K/V
 * is cached one step after it is decoded (the step that first sees it
 * unmasked) and reused from then on; masked tokens are always recomputed.
 */
export type DlmCacheMode = 'none' | 'prefix' | 'dual' | 'delayed';

/** Settings shared by the masked decoders. */
export interface MaskedDecoderSettings {
  /** Semi-autoregressive block length; must divide `genLength`. Default: `genLength` (one block). */
  blockLength?: number;
  /** Gumbel-max temperature (0 = greedy). Default 0. */
  temperature?: number;
  /** Which predictions to keep: the most confident (`low-confidence` remasking) or random ones. Default `low-confidence`. */
  remasking?: 'low-confidence' | 'random';
  /**
   * Unsupervised classifier-free guidance ("Scaling up Masked Diffusion
   * Models on Text", 2024): `logits = u + (1 + w)(c - u)`, `u` the logits
   * with the prompt masked. Default 0 (off); needs `cache: 'none'`.
   */
  cfgScale?: number;
  /** K/V reuse; default `none`. All but `none` need the model's K/V hooks. */
  cache?: DlmCacheMode;
  /** `delayed` only: recompute every position every `refreshInterval` steps (dKV-Cache's cache refresh). Default: never. */
  refreshInterval?: number;
  /** Tokens per block of the paged K/V pool (8, 16, 32). Default 16. */
  kvBlockSize?: 8 | 16 | 32;
}

/** How many tokens a step unmasks: a fixed budget of steps, or a confidence threshold. */
export type TransferRule =
  | { readonly kind: 'steps'; readonly steps: number }
  | { readonly kind: 'threshold'; readonly threshold: number };

interface StepLogits {
  data: Float32Array;
  rowOf: Map<number, number>; // position -> row in data
  rows: number;
  queried: number[];
  full: boolean;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

/** Check settings and rule; runs before any model call. */
function checkSettings(s: MaskedDecoderSettings, rule: TransferRule): void {
  if (rule.kind === 'steps') checkPositiveInt('steps', rule.steps);
  else checkRange('threshold', rule.threshold, 0, 1, true);
  if (s.blockLength !== undefined) checkPositiveInt('blockLength', s.blockLength);
  checkRange('temperature', s.temperature ?? 0, 0, Number.POSITIVE_INFINITY);
  checkRange('cfgScale', s.cfgScale ?? 0, 0, Number.POSITIVE_INFINITY);
  const remasking = s.remasking ?? 'low-confidence';
  if (remasking !== 'low-confidence' && remasking !== 'random')
    throw dlmError(`remasking must be 'low-confidence' or 'random', got '${String(remasking)}'`);
  const cache = s.cache ?? 'none';
  if (!['none', 'prefix', 'dual', 'delayed'].includes(cache))
    throw dlmError(`cache must be 'none', 'prefix', 'dual' or 'delayed', got '${String(cache)}'`);
  if (cache !== 'none' && (s.cfgScale ?? 0) > 0)
    throw dlmError(
      `cfgScale > 0 needs cache 'none' (the unconditional pass has no cache), got cache '${cache}'`,
    );
  if (s.refreshInterval !== undefined) {
    checkPositiveInt('refreshInterval', s.refreshInterval);
    if (cache !== 'delayed')
      throw dlmError(`refreshInterval applies to cache 'delayed' only, got cache '${cache}'`);
  }
  const kvb = s.kvBlockSize ?? 16;
  if (kvb !== 8 && kvb !== 16 && kvb !== 32)
    throw dlmError(`kvBlockSize must be 8, 16 or 32, got ${kvb}`);
}

/** Throw unless `t` is `[batch, n, vocab]`; disposes `owned` first when it throws. */
function checkLogits(
  t: tf.Tensor,
  batch: number,
  n: number,
  vocab: number,
  owned: () => void,
): void {
  if (t.rank !== 3 || t.shape[0] !== batch || t.shape[1] !== n || t.shape[2] !== vocab) {
    owned();
    throw dlmError(
      `model returned logits of shape [${t.shape.join(', ')}]; expected [${batch}, ${n}, ${vocab}]`,
    );
  }
}

function disposeOutput(out: DlmPartialOutput): void {
  out.logits.dispose();
  for (const t of [...out.keys, ...out.values]) t.dispose();
}

/**
 * The iterative unmasking loop shared by {@link createLowConfidenceDecoder}
 * and {@link createThresholdDecoder}: blocks left to right, in each block
 * predict every masked position, unmask the chosen ones, keep the rest masked.
 */
export function createMaskedDecoder(
  name: string,
  rule: TransferRule,
  settings: MaskedDecoderSettings = {},
): DlmDecoderV1 {
  checkSettings(settings, rule);
  const temperature = settings.temperature ?? 0;
  const remasking = settings.remasking ?? 'low-confidence';
  const cfg = settings.cfgScale ?? 0;
  const mode = settings.cache ?? 'none';

  async function decode(args: DlmDecodeArgs): Promise<DlmDecodeResult> {
    const P = checkDecodeArgs(args);
    const { model, genLength: G } = args;
    const BL = settings.blockLength ?? G;
    if (G % BL !== 0) throw dlmError(`blockLength ${BL} must divide genLength ${G}`);
    const numBlocks = G / BL;
    if (rule.kind === 'steps' && rule.steps % numBlocks !== 0)
      throw dlmError(
        `steps ${rule.steps} must be a multiple of the number of blocks (genLength / blockLength = ${numBlocks})`,
      );
    if (mode !== 'none' && model.kv === undefined)
      throw dlmError(`cache '${mode}' needs a model with K/V hooks (MaskedDiffusionLmV1.kv)`);
    const B = args.prompt.length;
    const L = P + G;
    const V = model.vocabSize;
    const mask = model.maskId;
    const x = new Int32Array(B * L).fill(mask);
    args.prompt.forEach((row, b) => {
      x.set(row, b * L);
    });
    const rng = new PortableRng(args.seed ?? 0);
    const kv = model.kv;
    const store =
      mode === 'none' || kv === undefined
        ? undefined
        : new DlmKvStore({
            batch: B,
            length: L,
            numLayers: kv.numLayers,
            numKvHeads: kv.numKvHeads,
            headDim: kv.headDim,
            blockSize: settings.kvBlockSize ?? 16,
          });
    let modelCalls = 0;
    let positionsComputed = 0;
    let globalStep = 0;

    const idsOf = (positions: readonly number[], src = x): tf.Tensor2D => {
      const ids = new Int32Array(B * positions.length);
      for (let b = 0; b < B; b++)
        positions.forEach((p, i) => {
          ids[b * positions.length + i] = src[b * L + p]!;
        });
      return tf.tensor2d(ids, [B, positions.length], 'int32');
    };
    const isMasked = (b: number, p: number): boolean => x[b * L + p] === mask;

    /** Full forward on every position (no cache), with optional unsupervised CFG. */
    async function fullLogits(s: number, e: number): Promise<StepLogits> {
      const all = range(0, L);
      let src = x;
      let batch = B;
      if (cfg > 0) {
        src = new Int32Array(2 * B * L);
        src.set(x);
        src.set(x, B * L);
        for (let b = 0; b < B; b++) src.fill(mask, (B + b) * L, (B + b) * L + P);
        batch = 2 * B;
      }
      const ids = tf.tensor2d(src, [batch, L], 'int32');
      const logits = await model.forward(ids);
      ids.dispose();
      modelCalls++;
      positionsComputed += batch * L;
      checkLogits(logits, batch, L, V, () => logits.dispose());
      const data = tf.tidy(() => {
        const block = tf.slice(logits, [0, s, 0], [batch, e - s, V]);
        if (cfg === 0) return block;
        const c = tf.slice(block, [0, 0, 0], [B, e - s, V]);
        const u = tf.slice(block, [B, 0, 0], [B, e - s, V]);
        return tf.add(u, tf.mul(tf.sub(c, u), 1 + cfg));
      });
      logits.dispose();
      const out = data.dataSync() as Float32Array;
      data.dispose();
      return {
        data: out,
        rowOf: new Map(range(s, e).map((p, i) => [p, i])),
        rows: e - s,
        queried: all,
        full: true,
      };
    }

    /** Forward through the K/V hooks on `queries`, attending to cached `context`. */
    async function partialLogits(
      queries: number[],
      context: number[],
      full: boolean,
      keep: (b: number, p: number) => boolean,
    ): Promise<StepLogits> {
      const ids = idsOf(queries);
      const ctx =
        context.length > 0 ? { positions: context, ...store!.gather(context) } : undefined;
      const out = await kv!.forwardWithKv({ ids, positions: queries, context: ctx });
      ids.dispose();
      if (ctx !== undefined) for (const t of [...ctx.keys, ...ctx.values]) t.dispose();
      modelCalls++;
      positionsComputed += B * queries.length;
      checkLogits(out.logits, B, queries.length, V, () => disposeOutput(out));
      store!.write(out, queries, keep);
      const data = out.logits.dataSync() as Float32Array;
      disposeOutput(out);
      return {
        data,
        rowOf: new Map(queries.map((p, i) => [p, i])),
        rows: queries.length,
        queried: queries,
        full,
      };
    }

    async function stepLogits(s: number, e: number, i: number): Promise<StepLogits> {
      if (mode === 'none') return fullLogits(s, e);
      const all = range(0, L);
      if (mode === 'prefix' || mode === 'dual') {
        if (i === 0) {
          store!.clear();
          return partialLogits(all, [], true, () => true);
        }
        if (mode === 'prefix') return partialLogits(range(s, L), range(0, s), false, () => true);
        return partialLogits(range(s, e), [...range(0, s), ...range(e, L)], false, () => true);
      }
      // delayed: cache only positions whose input token is already decoded.
      const decoded = (b: number, p: number) => !isMasked(b, p);
      const refresh =
        globalStep === 0 ||
        (settings.refreshInterval !== undefined && globalStep % settings.refreshInterval === 0);
      if (refresh) {
        store!.clear();
        return partialLogits(all, [], true, decoded);
      }
      const context = store!.cachedEverywhere();
      const cached = new Set(context);
      return partialLogits(
        all.filter((p) => !cached.has(p)),
        context,
        false,
        decoded,
      );
    }

    try {
      const stepsPerBlock = rule.kind === 'steps' ? rule.steps / numBlocks : 0;
      for (let blk = 0; blk < numBlocks; blk++) {
        const s = P + blk * BL;
        const e = s + BL;
        const budgets =
          rule.kind === 'steps'
            ? Array.from({ length: B }, (_, b) =>
                transferSchedule(range(s, e).filter((p) => isMasked(b, p)).length, stepsPerBlock),
              )
            : [];
        for (let i = 0; ; i++) {
          const done =
            rule.kind === 'steps'
              ? i >= stepsPerBlock
              : !range(s, e).some((p) => range(0, B).some((b) => isMasked(b, p)));
          if (done) break;
          const logits = await stepLogits(s, e, i);
          const unmasked: number[][] = [];
          for (let b = 0; b < B; b++) {
            const candidates = range(s, e).filter((p) => isMasked(b, p));
            const pred = new Map<number, { token: number; conf: number }>();
            for (const p of candidates) {
              const row = logits.rowOf.get(p)!;
              const r = predictRow(
                logits.data,
                (b * logits.rows + row) * V,
                V,
                mask,
                temperature,
                rng,
              );
              pred.set(p, {
                token: r.token,
                conf: remasking === 'random' ? rng.uniform() : r.prob,
              });
            }
            const conf = (p: number) => pred.get(p)!.conf;
            const chosen =
              rule.kind === 'steps'
                ? pickTopK(candidates, conf, budgets[b]![i]!)
                : candidates.length === 0
                  ? []
                  : pickThreshold(candidates, conf, rule.threshold);
            for (const p of chosen) x[b * L + p] = pred.get(p)!.token;
            unmasked.push(chosen);
          }
          globalStep++;
          args.onStep?.({
            block: blk,
            step: i,
            queried: logits.queried,
            unmasked,
            full: logits.full,
          });
        }
      }
    } finally {
      store?.dispose();
    }
    const tokens = Array.from({ length: B }, (_, b) => x.slice(b * L, (b + 1) * L));
    return { tokens, modelCalls, positionsComputed, verifierCalls: 0 };
  }

  return { specificationVersion: 'v1', name, decode };
}

/** Settings of {@link createLowConfidenceDecoder}. */
export interface LowConfidenceDecoderSettings extends MaskedDecoderSettings {
  /** Total denoising steps; a multiple of the number of blocks. Each block gets `steps / numBlocks`. */
  steps: number;
}

/**
 * LLaDA's sampler ("Large Language Diffusion Models", 2025): semi-autoregressive
 * blocks, a fixed number of steps per block, each unmasking the
 * `transferSchedule` count of most confident predictions (low-confidence
 * remasking) or random ones; with `cfgScale`, SMDM's unsupervised
 * classifier-free guidance ("Scaling up Masked Diffusion Models on Text",
 * 2024). Any `cache` mode applies (Fast-dLLM prefix/dual, dKV-Cache delayed).
 */
export function createLowConfidenceDecoder(settings: LowConfidenceDecoderSettings): DlmDecoderV1 {
  return createMaskedDecoder('low-confidence', { kind: 'steps', steps: settings?.steps }, settings);
}

/** Settings of {@link createThresholdDecoder}. */
export interface ThresholdDecoderSettings extends MaskedDecoderSettings {
  /** Unmask every prediction with confidence at least this, in (0, 1]; the most confident one always. */
  threshold: number;
}

/**
 * Fast-dLLM's confidence-threshold parallel decoding ("Fast-dLLM:
 * Training-free Acceleration of Diffusion LLM by Enabling KV Cache and
 * Parallel Decoding", 2025): within each block, every step unmasks all
 * predictions whose confidence reaches `threshold` (at least one), until the
 * block is decoded. Combine with `cache: 'prefix' | 'dual'` for the paper's
 * block-wise approximate KV cache.
 */
export function createThresholdDecoder(settings: ThresholdDecoderSettings): DlmDecoderV1 {
  return createMaskedDecoder(
    'threshold',
    { kind: 'threshold', threshold: settings?.threshold },
    settings,
  );
}
