import * as tf from '@tensorflow/tfjs-core';
import { PortableRng } from '../oracle/portable-rng.js';
import type { AutoregressiveLmV1, DlmDecodeArgs, DlmDecodeResult, DlmDecoderV1 } from './types.js';
import { checkDecodeArgs, checkPositiveInt, checkRange, dlmError } from './validate.js';

/** Settings of {@link createApdDecoder}. */
export interface ApdDecoderSettings {
  /** The small autoregressive model whose joint probability gates acceptance. */
  verifier: AutoregressiveLmV1;
  /**
   * R in [0, 1]: the target is `p_D^R · p_AR^(1-R)` per position. R = 1
   * accepts the whole lookahead (pure dLLM marginals); R = 0 accepts only
   * what the verifier would also pick.
   */
  mixtureWeight: number;
  /** M: masked positions the dLLM sees (and may accept) per step. Default: the whole rest. */
  maxLookahead?: number;
  /** Gumbel-max temperature shared by draft and target (0 = greedy). Default 0. */
  temperature?: number;
}

/** Row `r` of `[1, n, V]` logits data, as a view. */
function row(data: Float32Array, r: number, vocab: number): Float32Array {
  return data.subarray(r * vocab, (r + 1) * vocab);
}

/** argmax over the vocabulary (skipping `skip`) of `score(v) + temperature * gumbel[v]`. */
function gumbelArgmax(
  vocab: number,
  score: (v: number) => number,
  gumbel: Float64Array | undefined,
  temperature: number,
  skip: number,
): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < vocab; v++) {
    if (v === skip) continue;
    const s = score(v) + (gumbel === undefined ? 0 : temperature * gumbel[v]!);
    if (s > bestScore || best < 0) {
      bestScore = s;
      best = v;
    }
  }
  return best;
}

/**
 * Adaptive parallel decoding ("Accelerating Diffusion LLMs via Adaptive
 * Parallel Decoding", 2025): left to right, the dLLM samples every position
 * of the lookahead window in parallel from its marginals; the small
 * autoregressive verifier scores that draft in one pass; with the same
 * Gumbel noise, the target `R·logits_D + (1-R)·logits_AR` is sampled at each
 * position, and the longest prefix on which draft and target agree is
 * accepted (the first token always), as in the authors' `apd_accept_criterion`.
 * Rows are decoded one after another (batch 1 per model call, as the paper).
 */
export function createApdDecoder(settings: ApdDecoderSettings): DlmDecoderV1 {
  const verifier = settings?.verifier;
  if (verifier?.specificationVersion !== 'v1')
    throw dlmError(
      `verifier must implement AutoregressiveLmV1 (specificationVersion 'v1'), got ${String(verifier?.specificationVersion)}`,
    );
  const R = settings.mixtureWeight;
  checkRange('mixtureWeight', R, 0, 1);
  if (settings.maxLookahead !== undefined) checkPositiveInt('maxLookahead', settings.maxLookahead);
  const temperature = settings.temperature ?? 0;
  checkRange('temperature', temperature, 0, Number.POSITIVE_INFINITY);

  async function decode(args: DlmDecodeArgs): Promise<DlmDecodeResult> {
    const P = checkDecodeArgs(args);
    const { model, genLength: G } = args;
    const V = model.vocabSize;
    if (verifier.vocabSize !== V)
      throw dlmError(
        `verifier vocabSize ${verifier.vocabSize} must equal the dLLM's vocabSize ${V}`,
      );
    const M = settings.maxLookahead ?? G;
    const L = P + G;
    const mask = model.maskId;
    const rng = new PortableRng(args.seed ?? 0);
    let modelCalls = 0;
    let verifierCalls = 0;
    let positionsComputed = 0;
    const tokens: Int32Array[] = [];

    async function logitsOf(
      net: { forward(ids: tf.Tensor2D): tf.Tensor3D | Promise<tf.Tensor3D> },
      ids: Int32Array,
      who: string,
    ): Promise<Float32Array> {
      const t = tf.tensor2d(ids, [1, ids.length], 'int32');
      const out = await net.forward(t);
      t.dispose();
      if (
        out.rank !== 3 ||
        out.shape[0] !== 1 ||
        out.shape[1] !== ids.length ||
        out.shape[2] !== V
      ) {
        const shape = out.shape.join(', ');
        out.dispose();
        throw dlmError(
          `${who} returned logits of shape [${shape}]; expected [1, ${ids.length}, ${V}]`,
        );
      }
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    }

    for (let b = 0; b < args.prompt.length; b++) {
      const x = new Int32Array(L).fill(mask);
      x.set(args.prompt[b]!);
      let cur = P;
      let step = 0;
      while (cur < L) {
        const right = Math.min(cur + M, L);
        const n = right - cur;
        const dl = await logitsOf(model, x.slice(0, right), 'model');
        modelCalls++;
        positionsComputed += right;
        const noise: (Float64Array | undefined)[] = [];
        const draft = x.slice(0, right);
        for (let i = 0; i < n; i++) {
          const g =
            temperature > 0
              ? Float64Array.from(rng.uniforms(V), (u) => -Math.log(-Math.log(Math.max(u, 1e-300))))
              : undefined;
          noise.push(g);
          const d = row(dl, cur + i, V);
          draft[cur + i] = gumbelArgmax(V, (v) => d[v]!, g, temperature, mask);
        }
        // The verifier's row j predicts token j + 1: positions cur..right-1 read rows cur-1..right-2.
        const al = await logitsOf(verifier, draft, 'verifier');
        verifierCalls++;
        let accept = 1;
        while (accept < n) {
          const i = accept;
          const d = row(dl, cur + i, V);
          const a = row(al, cur + i - 1, V);
          const target = gumbelArgmax(
            V,
            (v) => R * d[v]! + (1 - R) * a[v]!,
            noise[i],
            temperature,
            mask,
          );
          if (target !== draft[cur + i]) break;
          accept++;
        }
        x.set(draft.subarray(cur, cur + accept), cur);
        const unmasked = Array.from({ length: accept }, (_, i) => cur + i);
        cur += accept;
        args.onStep?.({
          block: 0,
          step: step++,
          queried: Array.from({ length: right }, (_, i) => i),
          unmasked: args.prompt.map((_, r) => (r === b ? unmasked : [])),
          full: true,
        });
      }
      tokens.push(x);
    }
    return { tokens, modelCalls, positionsComputed, verifierCalls };
  }

  return { specificationVersion: 'v1', name: 'apd', decode };
}
