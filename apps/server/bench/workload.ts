import { SeededRandom } from '@plexus/tensor';

/** One synthetic request of the serving benchmark. */
export interface BenchRequest {
  /** Arrival time in ms from the start. */
  readonly arrivalMs: number;
  readonly prompt: number[];
  readonly outputTokens: number;
}

/** Settings of {@link syntheticWorkload}. */
export interface WorkloadSettings {
  readonly numRequests: number;
  /** Poisson arrival rate, requests per second (Infinity = all at once). */
  readonly rate: number;
  /** Mean prompt and output lengths (ShareGPT: 161 and 338), scaled for this machine. */
  readonly meanPrompt: number;
  readonly meanOutput: number;
  /** Fraction of requests that start with one of the shared system prompts. */
  readonly sharedFraction: number;
  readonly systemPromptTokens: number;
  readonly vocabSize: number;
  readonly seed: number;
}

/** Log-normal length with the given mean and a ShareGPT-like spread (σ = 0.8), at least 1. */
function lengthWithMean(rng: SeededRandom, mean: number): number {
  const sigma = 0.8;
  const mu = Math.log(mean) - (sigma * sigma) / 2;
  return Math.max(1, Math.round(Math.exp(mu + sigma * rng.normal())));
}

/**
 * A seeded ShareGPT-like workload: Poisson arrivals, log-normal prompt and
 * output lengths (the means of ShareGPT's 161 / 338 tokens, scaled down by
 * the caller for a CPU), and a share of requests opening with one of four
 * system prompts, so prefix caching has something to reuse.
 */
export function syntheticWorkload(s: WorkloadSettings): BenchRequest[] {
  const rng = new SeededRandom(s.seed);
  const token = () => 3 + rng.int(s.vocabSize - 3);
  const systems = Array.from({ length: 4 }, () =>
    Array.from({ length: s.systemPromptTokens }, token),
  );
  let t = 0;
  return Array.from({ length: s.numRequests }, () => {
    if (Number.isFinite(s.rate)) t += (-Math.log(1 - rng.uniform()) / s.rate) * 1000;
    const own = Array.from({ length: lengthWithMean(rng, s.meanPrompt) }, token);
    const prompt = rng.uniform() < s.sharedFraction ? [...systems[rng.int(4)]!, ...own] : own;
    return { arrivalMs: t, prompt, outputTokens: lengthWithMean(rng, s.meanOutput) };
  });
}
