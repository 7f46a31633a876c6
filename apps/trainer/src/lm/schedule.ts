/** Settings of {@link learningRateAt}. */
export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  readonly lr: number;
  /** Linear warmup steps (0: start at the peak). */
  readonly warmup: number;
  /** Total optimizer steps; the cosine ends at `minRatio · lr` on the last one. */
  readonly steps: number;
  /** Floor of the cosine as a fraction of `lr` (default 0.1, as in the LLaMA recipe). */
  readonly minRatio?: number;
}

/**
 * Learning rate of step `step` (0-based): linear warmup to `lr` over
 * `warmup` steps, then half a cosine down to `minRatio · lr` at the last
 * step ("SGDR: Stochastic Gradient Descent with Warm Restarts", Loshchilov
 * & Hutter, 2017, without restarts; the schedule of "LLaMA", Touvron et al., 2023).
 */
export function learningRateAt(step: number, s: LrSchedule): number {
  const min = (s.minRatio ?? 0.1) * s.lr;
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const decaySteps = s.steps - s.warmup - 1;
  if (decaySteps <= 0) return s.lr;
  const progress = Math.min(1, (step - s.warmup) / decaySteps);
  return min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * progress));
}
