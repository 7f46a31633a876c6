import type { Rng } from '../../random/rng.js';

/**
 * k-means on the rows of a row-major `n × dim` matrix: k-means++ seeding
 * (Arthur & Vassilvitskii, "k-means++: The Advantages of Careful Seeding",
 * 2007) then Lloyd iterations; the best of `restarts` runs by inertia.
 * Returns a cluster id in [0, k) per row (k is clipped to n).
 */
export function kMeans(
  x: Float64Array,
  n: number,
  dim: number,
  k: number,
  rng: Rng,
  restarts = 5,
  maxIterations = 100,
): Int32Array {
  k = Math.min(k, n);
  let best = new Int32Array(n);
  let bestInertia = Number.POSITIVE_INFINITY;
  if (k <= 1) return best;
  for (let r = 0; r < restarts; r++) {
    const centres = seedPlusPlus(x, n, dim, k, rng);
    const assign = new Int32Array(n).fill(-1);
    let inertia = 0;
    for (let it = 0; it < maxIterations; it++) {
      let changed = false;
      inertia = 0;
      for (let i = 0; i < n; i++) {
        let bc = 0;
        let bd = Number.POSITIVE_INFINITY;
        for (let c = 0; c < k; c++) {
          const d = dist2(x, i * dim, centres, c * dim, dim);
          if (d < bd) {
            bd = d;
            bc = c;
          }
        }
        inertia += bd;
        if (assign[i] !== bc) {
          assign[i] = bc;
          changed = true;
        }
      }
      if (!changed) break;
      const counts = new Int32Array(k);
      centres.fill(0);
      for (let i = 0; i < n; i++) {
        const c = assign[i]!;
        counts[c]!++;
        for (let j = 0; j < dim; j++) centres[c * dim + j]! += x[i * dim + j]!;
      }
      for (let c = 0; c < k; c++) {
        // An emptied cluster restarts at a random point instead of collapsing.
        if (counts[c] === 0) {
          const i = rng.nextInt(n);
          for (let j = 0; j < dim; j++) centres[c * dim + j] = x[i * dim + j]!;
        } else for (let j = 0; j < dim; j++) centres[c * dim + j]! /= counts[c]!;
      }
    }
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = assign;
    }
  }
  return best;
}

function seedPlusPlus(x: Float64Array, n: number, dim: number, k: number, rng: Rng): Float64Array {
  const centres = new Float64Array(k * dim);
  const d2 = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = rng.nextInt(n);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < dim; j++) centres[c * dim + j] = x[pick * dim + j]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      d2[i] = Math.min(d2[i]!, dist2(x, i * dim, centres, c * dim, dim));
      total += d2[i]!;
    }
    // Next centre with probability proportional to squared distance (uniform if all coincide).
    let r = rng.next() * total;
    pick = total > 0 ? n - 1 : rng.nextInt(n);
    if (total > 0) {
      for (let i = 0; i < n; i++) {
        r -= d2[i]!;
        if (r < 0) {
          pick = i;
          break;
        }
      }
    }
  }
  return centres;
}

function dist2(a: Float64Array, ao: number, b: Float64Array, bo: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (a[ao + j]! - b[bo + j]!) ** 2;
  return s;
}
