import type { SeededRandom } from '@plexus/tensor';
import type { SamplingParams } from './sampling-params.js';

/** A sampled token with its log-probability under the model and the top alternatives. */
export interface SampledToken {
  readonly token: number;
  /** log p(token) under the model's distribution (before temperature and truncation). */
  readonly logprob: number;
  /** The `params.logprobs` most likely tokens and their log-probabilities, best first. */
  readonly topLogprobs: readonly { readonly token: number; readonly logprob: number }[];
}

/** Log-softmax in float64 (logits rows can reach ±1e4 with large vocabularies). */
export function logSoftmax(logits: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/**
 * Draws one token: greedy at temperature 0 (ties to the lowest id),
 * otherwise temperature, then top-k, then top-p (nucleus, "The Curious Case
 * of Neural Text Degeneration", Holtzman et al., 2020) truncation, then one
 * uniform draw from `rng`, so a seeded request is reproducible.
 */
export function sampleToken(
  logits: Float32Array,
  params: Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'logprobs'>,
  rng: SeededRandom,
): SampledToken {
  const logp = logSoftmax(logits);
  const token = params.temperature === 0 ? argmax(logits) : draw(logits, params, rng);
  return { token, logprob: logp[token]!, topLogprobs: topN(logp, params.logprobs) };
}

function draw(
  logits: Float32Array,
  params: Pick<SamplingParams, 'temperature' | 'topK' | 'topP'>,
  rng: SeededRandom,
): number {
  if (params.topK <= 0 && params.topP >= 1) return drawUntruncated(logits, params.temperature, rng);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const keep = params.topK > 0 ? Math.min(params.topK, order.length) : order.length;
  const max = logits[order[0]!]!;
  const weights = new Float64Array(keep);
  let total = 0;
  for (let i = 0; i < keep; i++) {
    weights[i] = Math.exp((logits[order[i]!]! - max) / params.temperature);
    total += weights[i]!;
  }
  // Nucleus: the shortest prefix of the sorted distribution with mass >= topP.
  let cut = keep;
  if (params.topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += weights[i]! / total;
      if (mass >= params.topP) {
        cut = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < cut; i++) kept += weights[i]!;
  let u = rng.uniform() * kept;
  for (let i = 0; i < cut; i++) {
    u -= weights[i]!;
    if (u < 0) return order[i]!;
  }
  return order[cut - 1]!;
}

/** Plain temperature sampling: one pass over the vocabulary, no sort. */
function drawUntruncated(logits: Float32Array, temperature: number, rng: SeededRandom): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let total = 0;
  for (const v of logits) total += Math.exp((v - max) / temperature);
  let u = rng.uniform() * total;
  for (let i = 0; i < logits.length; i++) {
    u -= Math.exp((logits[i]! - max) / temperature);
    if (u < 0) return i;
  }
  return logits.length - 1;
}

/** The n most likely tokens, best first (ties to the lower id), by insertion into a short list. */
function topN(logp: Float64Array, n: number): { token: number; logprob: number }[] {
  if (n <= 0) return [];
  const best: number[] = [];
  for (let i = 0; i < logp.length; i++) {
    if (best.length === n && logp[i]! <= logp[best[n - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && logp[i]! > logp[best[at - 1]!]!) at--;
    best.splice(at, 0, i);
    if (best.length > n) best.pop();
  }
  return best.map((token) => ({ token, logprob: logp[token]! }));
}
