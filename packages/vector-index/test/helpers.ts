// Seeded data and an independent float64 brute-force reference for tests.
// The reference deliberately shares no code with the package (not even its
// kernels), so recall numbers are measured against ground truth.

/** mulberry32 uniform in [0, 1). */
export function uniformSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n x dim uniform vectors in [-1, 1). */
export function uniformData(n: number, dim: number, seed: number): Float32Array {
  const u = uniformSource(seed);
  return Float32Array.from({ length: n * dim }, () => 2 * u() - 1);
}

/** n x dim points from `clusters` tight Gaussian-ish clusters (sum of uniforms). */
export function clusteredData(
  n: number,
  dim: number,
  clusters: number,
  seed: number,
): Float32Array {
  const u = uniformSource(seed);
  const centres = Float32Array.from({ length: clusters * dim }, () => 4 * u() - 2);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(u() * clusters);
    for (let j = 0; j < dim; j++) {
      const noise = (u() + u() + u() - 1.5) * 0.3;
      out[i * dim + j] = centres[c * dim + j]! + noise;
    }
  }
  return out;
}

/** Row i of a flat matrix. */
export function row(data: Float32Array, i: number, dim: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}

/** Reference distance in float64: squared L2, 1 - dot, or 1 - cosine. */
export function refDistance(
  metric: 'l2' | 'ip' | 'cosine',
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (metric === 'l2') return l2;
  if (metric === 'ip') return 1 - dot;
  return 1 - dot / Math.sqrt(na * nb);
}

/** Exact top-k labels (label = row index unless `labels` given), optionally filtered. */
export function referenceTopK(
  metric: 'l2' | 'ip' | 'cosine',
  data: Float32Array,
  dim: number,
  query: ArrayLike<number>,
  k: number,
  keep: (label: number) => boolean = () => true,
  labels?: ArrayLike<number>,
): number[] {
  const n = data.length / dim;
  const scored: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const label = labels ? labels[i]! : i;
    if (!keep(label)) continue;
    scored.push([refDistance(metric, query, row(data, i, dim)), label]);
  }
  scored.sort((x, y) => x[0] - y[0]);
  return scored.slice(0, k).map((s) => s[1]);
}

/** Mean share of the reference top-k found in each result list. */
export function recall(results: readonly number[][], truth: readonly number[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    hit += results[i]!.filter((l) => t.has(l)).length;
    total += truth[i]!.length;
  }
  return hit / total;
}

/** 0..n-1. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
