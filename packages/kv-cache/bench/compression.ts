import { SeededRandom } from '@plexus/tensor';
import {
  fastKvPolicy,
  h2oPolicy,
  pyramidKvPolicy,
  snapKvPolicy,
  streamingLlmPolicy,
  type TokenEvictionPolicy,
} from '../src/index.js';

/** Accuracy of one eviction policy at one budget. */
export interface CompressionRow {
  readonly policy: string;
  readonly budget: number;
  /** Fraction of trials where the final query's top-attended kept token is the planted needle. */
  readonly needleTop1: number;
  /** Mean relative L2 error of the final query's attention output against the full cache. */
  readonly outputRelError: number;
}

const D = 32;

/**
 * FastKV at layer 4 of 8 with TSP at layer 2: the propagated tokens come from
 * the window's attention at the TSP layer; layer 4 sees only those, and keeps
 * its budget among them (same synthetic attention restricted to them).
 */
function fastKvKeep(policy: TokenEvictionPolicy, window: Float32Array, length: number): Int32Array {
  const fast = policy as ReturnType<typeof fastKvPolicy>;
  const propagated = fast.propagate({ length, layer: 2, numLayers: 8, scores: window });
  const sub = new Float32Array(WINDOW * propagated.length);
  for (let w = 0; w < WINDOW; w++)
    propagated.forEach((p, i) => {
      sub[w * propagated.length + i] = window[w * length + p]!;
    });
  const local = fast.select({ length: propagated.length, layer: 4, numLayers: 8, scores: sub });
  return local.map((i) => propagated[i]!);
}
const WINDOW = 16;

function softmaxRow(logits: Float32Array): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  const out = logits.map((x) => Math.exp(x - max));
  for (const x of out) sum += x;
  return out.map((x) => x / sum);
}

/**
 * Needle-in-a-haystack on synthetic attention: random keys and values, one
 * planted key the last `WINDOW` queries (and the final query) look for. H2O
 * gets causal accumulated attention over every query; SnapKV and PyramidKV
 * the observation window's attention; StreamingLLM nothing. Each policy keeps
 * its budget (PyramidKV: the budget of its middle layer of 8), then the final
 * query attends over the kept tokens only.
 */
export function compressionAccuracy(
  length: number,
  budgets: readonly number[],
  trials: number,
  seed: number,
): CompressionRow[] {
  const rand = new SeededRandom(seed);
  const scale = 1 / Math.sqrt(D);
  const cases = Array.from({ length: trials }, () => {
    const keys = rand.fillNormal(new Float32Array(length * D));
    const values = rand.fillNormal(new Float32Array(length * D));
    const needle = 32 + rand.int(length - 64 - WINDOW);
    const target = rand.fillNormal(new Float32Array(D));
    keys.set(
      target.map((x) => x * 1.5),
      needle * D,
    );
    const query = (p: number): Float32Array =>
      p >= length - WINDOW
        ? target.map((x) => x + 0.6 * rand.normal())
        : rand.fillNormal(new Float32Array(D));
    const queries = Array.from({ length }, (_, p) => query(p));
    const final = target.map((x) => x + 0.6 * rand.normal());
    const logitsOf = (q: Float32Array, upTo: number): Float32Array => {
      const out = new Float32Array(upTo);
      for (let p = 0; p < upTo; p++) {
        let dot = 0;
        for (let i = 0; i < D; i++) dot += q[i]! * keys[p * D + i]!;
        out[p] = dot * scale;
      }
      return out;
    };
    const accumulated = new Float32Array(length);
    queries.forEach((q, p) => {
      softmaxRow(logitsOf(q, p + 1)).forEach((w, j) => {
        accumulated[j] = accumulated[j]! + w;
      });
    });
    const window = new Float32Array(WINDOW * length);
    for (let w = 0; w < WINDOW; w++)
      window.set(softmaxRow(logitsOf(queries[length - WINDOW + w]!, length)), w * length);
    const finalLogits = logitsOf(final, length);
    const attend = (keep: Int32Array): { out: Float32Array; top: number } => {
      const weights = softmaxRow(Float32Array.from(keep, (p) => finalLogits[p]!));
      const out = new Float32Array(D);
      let top = 0;
      keep.forEach((p, i) => {
        if (weights[i]! > weights[top]!) top = i;
        for (let k = 0; k < D; k++) out[k] = out[k]! + weights[i]! * values[p * D + k]!;
      });
      return { out, top: keep[top]! };
    };
    const everything = attend(Int32Array.from({ length }, (_, i) => i));
    return { needle, accumulated, window, attend, full: everything.out, fullTop: everything.top };
  });
  const rows: CompressionRow[] = [
    {
      policy: 'full cache',
      budget: length,
      needleTop1: cases.filter((c) => c.fullTop === c.needle).length / cases.length,
      outputRelError: 0,
    },
  ];
  for (const budget of budgets) {
    const policies: TokenEvictionPolicy[] = [
      streamingLlmPolicy({ sinks: 4, window: budget - 4 }),
      h2oPolicy({ budget, recent: Math.floor(budget / 4) }),
      snapKvPolicy({ budget, window: WINDOW }),
      pyramidKvPolicy({ averageBudget: budget, window: WINDOW, beta: 4 }),
      fastKvPolicy({ budget, window: WINDOW, tspLayer: 2, tspBudget: 2 * budget }),
    ];
    for (const policy of policies) {
      let hits = 0;
      let err = 0;
      for (const c of cases) {
        const scores =
          policy.name === 'h2o'
            ? c.accumulated
            : policy.name === 'streaming-llm'
              ? undefined
              : c.window;
        const keep =
          policy.name === 'fastkv'
            ? fastKvKeep(policy, c.window, length)
            : policy.select({ length, layer: 4, numLayers: 8, scores });
        const { out, top } = c.attend(keep);
        if (top === c.needle) hits++;
        let num = 0;
        let den = 0;
        for (let k = 0; k < D; k++) {
          num += (out[k]! - c.full[k]!) ** 2;
          den += c.full[k]! ** 2;
        }
        err += Math.sqrt(num / den);
      }
      rows.push({
        policy: policy.name,
        budget: policy.budget(4, 8),
        needleTop1: hits / cases.length,
        outputRelError: err / cases.length,
      });
    }
  }
  return rows;
}
