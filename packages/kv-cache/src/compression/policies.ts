import { PlexusKvCacheError } from '../errors.js';
import {
  checkCount,
  type EvictionInput,
  keepTop,
  requireScores,
  type TokenEvictionPolicy,
} from './policy.js';

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * StreamingLLM ("Efficient Streaming Language Models with Attention Sinks",
 * Xiao et al., 2023): keep the first `sinks` tokens (attention sinks) and the
 * last `window` tokens.
 */
export function streamingLlmPolicy(options: {
  sinks: number;
  window: number;
}): TokenEvictionPolicy {
  const { sinks, window } = options;
  checkCount(sinks, 'sinks');
  checkCount(window, 'window');
  return {
    name: 'streaming-llm',
    budget: () => sinks + window,
    select: ({ length }: EvictionInput) => {
      if (length <= sinks + window) return Int32Array.from(range(0, length));
      return Int32Array.from([...range(0, sinks), ...range(length - window, length)]);
    },
  };
}

/**
 * H2O ("H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large
 * Language Models", Zhang et al., 2023): keep the `recent` newest tokens and
 * the `budget - recent` older tokens with the largest accumulated attention.
 */
export function h2oPolicy(options: { budget: number; recent: number }): TokenEvictionPolicy {
  const { budget, recent } = options;
  checkCount(budget, 'budget');
  checkCount(recent, 'recent');
  if (recent > budget)
    throw new PlexusKvCacheError(
      'compression',
      `recent (${recent}) exceeds budget (${budget}); expected recent <= budget`,
    );
  return {
    name: 'h2o',
    budget: () => budget,
    select: (input: EvictionInput) => {
      const { length } = input;
      if (length <= budget) return Int32Array.from(range(0, length));
      const scores = requireScores(input, length, 'h2o');
      return keepTop(range(length - recent, length), length, (p) => scores[p]!, budget - recent);
    },
  };
}

/**
 * SnapKV's selection ("SnapKV: LLM Knows What You are Looking for Before
 * Generation", Li et al., 2024) with a given budget: the last `window` queries
 * vote (summed attention, max-pooled over `kernelSize` neighbours so kept
 * tokens come with their context) for prefix positions; keep the top
 * `budget - window` prefix positions and the window itself.
 */
function snapSelect(
  input: EvictionInput,
  budget: number,
  window: number,
  kernelSize: number,
  name: string,
): Int32Array {
  const { length } = input;
  if (length <= budget) return Int32Array.from(range(0, length));
  const scores = requireScores(input, window * length, name);
  const prefix = length - window;
  const votes = new Float32Array(prefix);
  for (let w = 0; w < window; w++)
    for (let p = 0; p < prefix; p++) votes[p] = votes[p]! + scores[w * length + p]!;
  const half = Math.floor(kernelSize / 2);
  const pooled = new Float32Array(prefix);
  for (let p = 0; p < prefix; p++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = Math.max(0, p - half); j <= Math.min(prefix - 1, p + half); j++)
      m = Math.max(m, votes[j]!);
    pooled[p] = m;
  }
  // Ties (pooling spreads a peak) go to the position with the larger own vote.
  return keepTop(
    range(prefix, length),
    prefix,
    (p) => pooled[p]! + votes[p]! * 1e-6,
    budget - window,
  );
}

function checkSnap(budget: number, window: number, kernelSize: number): void {
  checkCount(budget, 'budget');
  checkCount(window, 'window');
  if (window > budget)
    throw new PlexusKvCacheError(
      'compression',
      `window (${window}) exceeds budget (${budget}); expected window <= budget`,
    );
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0)
    throw new PlexusKvCacheError(
      'compression',
      `kernelSize is ${kernelSize}; expected a positive odd integer`,
    );
}

/** SnapKV with the same budget in every layer (see {@link snapSelect}). */
export function snapKvPolicy(options: {
  budget: number;
  window: number;
  kernelSize?: number;
}): TokenEvictionPolicy {
  const { budget, window, kernelSize = 7 } = options;
  checkSnap(budget, window, kernelSize);
  return {
    name: 'snapkv',
    budget: () => budget,
    select: (input) => snapSelect(input, budget, window, kernelSize, 'snapkv'),
  };
}

/**
 * PyramidKV ("PyramidKV: Dynamic KV Cache Compression based on Pyramidal
 * Information Funneling", Cai et al., 2024): layer budgets fall linearly from
 * the bottom layer to the top (`top = averageBudget / beta`, bottom =
 * `2 · average − top`, so the total is `numLayers · averageBudget` up to
 * rounding, which is spread to keep the total exact); selection in each layer
 * is SnapKV's.
 */
export function pyramidKvPolicy(options: {
  averageBudget: number;
  window: number;
  beta?: number;
  kernelSize?: number;
}): TokenEvictionPolicy {
  const { averageBudget, window, beta = 20, kernelSize = 7 } = options;
  checkSnap(averageBudget, window, kernelSize);
  if (!(beta >= 1))
    throw new PlexusKvCacheError('compression', `beta is ${beta}; expected at least 1`);
  if (averageBudget <= window)
    throw new PlexusKvCacheError(
      'compression',
      `averageBudget (${averageBudget}) must exceed window (${window}) so every layer keeps its window`,
    );
  const budget = (layer: number, numLayers: number): number => {
    if (numLayers === 1) return averageBudget;
    // window + 1 so the floored per-layer budgets never drop below the window.
    const top = Math.max(window + 1, averageBudget / beta);
    const bottom = 2 * averageBudget - top;
    const exact = (l: number): number => bottom - ((bottom - top) * l) / (numLayers - 1);
    // Floor of the running sum keeps the layers' total exactly numLayers * average.
    return (
      Math.floor(range(0, layer + 1).reduce((s, l) => s + exact(l), 0) + 1e-9) -
      Math.floor(range(0, layer).reduce((s, l) => s + exact(l), 0) + 1e-9)
    );
  };
  return {
    name: 'pyramidkv',
    budget,
    select: (input) =>
      snapSelect(input, budget(input.layer, input.numLayers), window, kernelSize, 'pyramidkv'),
  };
}

/** A FastKV policy: per-layer selection plus the token-selective propagation step. */
export interface FastKvPolicy extends TokenEvictionPolicy {
  /**
   * At `tspLayer`, the `tspBudget` tokens (positions, ascending) whose hidden
   * states later layers compute on; later layers' caches hold only these, so
   * their `select` inputs index into this list.
   */
  propagate(input: EvictionInput): Int32Array;
  readonly tspLayer: number;
}

/**
 * FastKV ("FastKV: KV Cache Compression for Fast Long-Context Processing with
 * Token-Selective Propagation", 2025): layers up to `tspLayer` see the full
 * context and keep a SnapKV-selected `budget`; at `tspLayer` the window's
 * attention picks `tspBudget` tokens to propagate, and later layers, which
 * only ever see those tokens, keep `min(budget, tspBudget)` of them.
 */
export function fastKvPolicy(options: {
  budget: number;
  window: number;
  tspLayer: number;
  tspBudget: number;
  kernelSize?: number;
}): FastKvPolicy {
  const { budget, window, tspLayer, tspBudget, kernelSize = 7 } = options;
  checkSnap(budget, window, kernelSize);
  checkCount(tspLayer, 'tspLayer');
  checkCount(tspBudget, 'tspBudget');
  if (tspBudget < window)
    throw new PlexusKvCacheError(
      'compression',
      `tspBudget (${tspBudget}) is below window (${window}); expected at least the window`,
    );
  const layerBudget = (layer: number): number =>
    layer > tspLayer ? Math.min(budget, tspBudget) : budget;
  return {
    name: 'fastkv',
    tspLayer,
    budget: layerBudget,
    select: (input) => snapSelect(input, layerBudget(input.layer), window, kernelSize, 'fastkv'),
    propagate: (input) => snapSelect(input, tspBudget, window, kernelSize, 'fastkv'),
  };
}
