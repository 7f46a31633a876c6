import type { PortableRng } from '../oracle/portable-rng.js';

/**
 * How many tokens each of `steps` steps unmasks so that `count` masked tokens
 * are all decoded: `floor(count / steps)` each, the first `count mod steps`
 * steps one more (LLaDA's `get_num_transfer_tokens`, "Large Language
 * Diffusion Models", 2025).
 */
export function transferSchedule(count: number, steps: number): number[] {
  const base = Math.floor(count / steps);
  const extra = count % steps;
  return Array.from({ length: steps }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Positions ordered by confidence, highest first; ties go to the lower position. */
function byConfidence(candidates: readonly number[], confidence: (p: number) => number): number[] {
  return [...candidates].sort((a, b) => confidence(b) - confidence(a) || a - b);
}

/** The `k` most confident candidates, ascending (LLaDA's low-confidence remasking keeps the rest masked). */
export function pickTopK(
  candidates: readonly number[],
  confidence: (p: number) => number,
  k: number,
): number[] {
  return byConfidence(candidates, confidence)
    .slice(0, k)
    .sort((a, b) => a - b);
}

/**
 * Fast-dLLM's confidence-threshold parallel decoding ("Fast-dLLM:
 * Training-free Acceleration of Diffusion LLM by Enabling KV Cache and
 * Parallel Decoding", 2025): every candidate whose confidence is at least
 * `threshold`, and always the most confident one, so each step makes
 * progress. Ascending.
 */
export function pickThreshold(
  candidates: readonly number[],
  confidence: (p: number) => number,
  threshold: number,
): number[] {
  const order = byConfidence(candidates, confidence);
  const picked = order.filter((p, i) => i === 0 || confidence(p) >= threshold);
  return picked.sort((a, b) => a - b);
}

/** One position's prediction: the chosen token and its softmax probability. */
export interface TokenPrediction {
  token: number;
  prob: number;
}

/**
 * Predict one row of logits (`logits[offset .. offset + vocab)`): the argmax
 * of `logits + temperature * Gumbel` (LLaDA's Gumbel-max sampling; plain
 * argmax at temperature 0), never `maskId`, and its probability under the
 * noise-free softmax (computed in float64, as LLaDA does).
 */
export function predictRow(
  logits: Float32Array,
  offset: number,
  vocab: number,
  maskId: number,
  temperature: number,
  rng: PortableRng | undefined,
): TokenPrediction {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < vocab; v++) {
    const l = logits[offset + v]!;
    if (l > max) max = l;
    if (v === maskId) continue;
    let score = l;
    if (temperature > 0 && rng !== undefined)
      score += -temperature * Math.log(-Math.log(Math.max(rng.uniform(), 1e-300)));
    if (score > bestScore || best < 0) {
      bestScore = score;
      best = v;
    }
  }
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v]! - max);
  return { token: best, prob: Math.exp(logits[offset + best]! - max) / sum };
}
