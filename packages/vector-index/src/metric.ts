import { VectorIndexError } from './errors.js';

/**
 * Distance metric. `l2` is squared Euclidean distance; `ip` is 1 - <a, b>
 * (hnswlib's inner-product distance); `cosine` normalises vectors on the way
 * in and then uses `ip`, so its distance is 1 - cos(a, b).
 */
export type Metric = 'l2' | 'ip' | 'cosine';

/** Numeric codes for the binary format. */
export const METRIC_CODES: Readonly<Record<Metric, number>> = { l2: 0, ip: 1, cosine: 2 };

/** Reject anything but the three supported metric names. */
export function checkMetric(module: string, metric: unknown): Metric {
  if (metric === 'l2' || metric === 'ip' || metric === 'cosine') return metric;
  throw new VectorIndexError(
    module,
    `metric must be 'l2', 'ip' or 'cosine', got ${JSON.stringify(metric)}`,
  );
}

/** The metric with the given binary-format code. */
export function metricFromCode(module: string, code: number): Metric {
  for (const [name, value] of Object.entries(METRIC_CODES)) {
    if (value === code) return name as Metric;
  }
  throw new VectorIndexError(module, `unknown metric code ${code} (expected 0, 1 or 2)`);
}
