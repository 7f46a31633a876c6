// Seeded benchmark data: a mixture of Gaussian clusters, queries from the
// same mixture, and exact top-k by brute force (cached under bench/.tmp/).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BruteForceIndex } from '../src/index.js';

/** A deterministic source of standard normal numbers (mulberry32 + Box-Muller). */
export function gaussian(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** Mixture parameters. */
export interface MixtureSpec {
  readonly n: number;
  readonly queries: number;
  readonly dim: number;
  readonly clusters: number;
  readonly seed: number;
  /** Noise scale per cluster is spread * [1, 2): 0.3 by default. */
  readonly spread?: number;
}

/**
 * `n + queries` points: pick a cluster uniformly, then centre + noise. Centres
 * are N(0, 1) per coordinate and each cluster has its own spread in
 * [spread, 2 * spread), so clusters overlap a little and differ in density.
 */
export function mixture(spec: MixtureSpec): { base: Float32Array; queries: Float32Array } {
  const g = gaussian(spec.seed);
  const { dim, clusters } = spec;
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = g();
  const scale = spec.spread ?? 0.3;
  const spread = Float32Array.from(
    { length: clusters },
    () => scale * (1 + Math.abs(Math.sin(g() * 7))),
  );
  const draw = (count: number): Float32Array => {
    const out = new Float32Array(count * dim);
    for (let p = 0; p < count; p++) {
      const c = Math.min(clusters - 1, Math.floor(Math.abs(g() * 1e6) % clusters));
      const s = spread[c]!;
      for (let j = 0; j < dim; j++) out[p * dim + j] = centres[c * dim + j]! + s * g();
    }
    return out;
  };
  return { base: draw(spec.n), queries: draw(spec.queries) };
}

/** Exact top-k labels of every query (row-major queries x k), cached on disk by spec. */
export function groundTruth(
  spec: MixtureSpec,
  base: Float32Array,
  queries: Float32Array,
  k: number,
): Int32Array {
  const dir = fileURLToPath(new URL('./.tmp/', import.meta.url));
  const file = `${dir}gt-${spec.n}-${spec.queries}-${spec.dim}-${spec.clusters}-${spec.seed}-${spec.spread ?? 0.3}-k${k}.bin`;
  if (existsSync(file)) {
    const buf = readFileSync(file);
    return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }
  const exact = new BruteForceIndex({ dim: spec.dim, capacity: spec.n });
  exact.addBatch(
    Array.from({ length: spec.n }, (_, i) => i),
    base,
  );
  const out = new Int32Array(spec.queries * k);
  for (let q = 0; q < spec.queries; q++) {
    const hits = exact.search(queries.subarray(q * spec.dim, (q + 1) * spec.dim), k).labels;
    for (let j = 0; j < k; j++) out[q * k + j] = hits[j]!;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, out);
  return out;
}
