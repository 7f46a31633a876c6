import { SeededRandom } from '@plexus/tensor';

/** One synthetic request. */
export interface Request {
  readonly id: number;
  readonly prompt: number[];
  readonly outputLength: number;
}

/**
 * Log-normal length with the given mean (sigma 1 gives ShareGPT's long tail),
 * clipped to `[1, max]`.
 */
export function logNormalLength(rand: SeededRandom, mean: number, max: number, sigma = 1): number {
  const mu = Math.log(mean) - (sigma * sigma) / 2;
  return Math.max(1, Math.min(max, Math.round(Math.exp(mu + sigma * rand.normal()))));
}

/**
 * ShareGPT-like requests: log-normal prompt and output lengths rescaled so the
 * sample means are the PagedAttention paper's ShareGPT statistics (161 prompt,
 * 338 output tokens), prompt + output capped at `maxModelLength`. Tokens are
 * random ids, so no two prompts share blocks.
 */
export function shareGptWorkload(count: number, seed: number, maxModelLength = 2048): Request[] {
  const rand = new SeededRandom(seed);
  const rawPrompt = Array.from({ length: count }, () => logNormalLength(rand, 161, maxModelLength));
  const rawOutput = Array.from({ length: count }, () => logNormalLength(rand, 338, maxModelLength));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lengths = (ps: number, os: number): [number, number][] =>
    rawPrompt.map((raw, i) => {
      const p = Math.max(1, Math.min(maxModelLength / 2, Math.round(raw * ps)));
      return [p, Math.max(1, Math.min(maxModelLength - p, Math.round(rawOutput[i]! * os)))];
    });
  // Rescale until the clipped sample means hit the targets (a few rounds suffice).
  let promptScale = 1;
  let outputScale = 1;
  for (let round = 0; round < 8; round++) {
    const ls = lengths(promptScale, outputScale);
    promptScale *= 161 / mean(ls.map((l) => l[0]));
    outputScale *= 338 / mean(ls.map((l) => l[1]));
  }
  return lengths(promptScale, outputScale).map(([promptLength, outputLength], id) => {
    const prompt = Array.from({ length: promptLength }, () => rand.int(32000));
    return { id, prompt, outputLength };
  });
}

/** Milliseconds since an arbitrary origin. */
export const now = (): number => performance.now();

/**
 * Medians of `reps` rounds that run every function once each, interleaved,
 * after two warm-up rounds: on a shared machine, load drifts hit all of them
 * alike, so their ratios are steadier than separate medians.
 */
export function interleavedMedians(fns: readonly (() => void)[], reps: number): number[] {
  for (let w = 0; w < 2; w++) for (const fn of fns) fn();
  const times = fns.map((): number[] => []);
  for (let r = 0; r < reps; r++)
    fns.forEach((fn, i) => {
      const t = now();
      fn();
      times[i]!.push(now() - t);
    });
  return times.map((ts) => ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)]!);
}
