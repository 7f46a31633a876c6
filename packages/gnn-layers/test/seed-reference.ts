/**
 * Dense float64 references for the seed-paper layers, written from the
 * papers' equations with nested arrays and sharing no code with the sparse
 * implementations.
 */
import type { Matrix } from './dense-reference.js';
import { matmul } from './dense-reference.js';

export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
}

/** `D^-1/2 (A + I) D^-1/2` with `A[target][source]`, row degrees (as the GCN reference). */
export function gcnNormalized(a: Matrix): Matrix {
  const hat = a.map((row, i) => row.map((v, j) => v + (i === j ? 1 : 0)));
  const deg = hat.map((row) => row.reduce((s, v) => s + v, 0));
  return hat.map((row, i) => row.map((v, j) => v / Math.sqrt(deg[i]! * deg[j]!)));
}

/** `exp(m)` by scaling and squaring with a 30-term Taylor series (float64). */
export function expm(m: Matrix): Matrix {
  const n = m.length;
  const norm = Math.max(...m.map((row) => row.reduce((s, v) => s + Math.abs(v), 0)));
  const s = Math.max(0, Math.ceil(Math.log2(norm + 1e-300)) + 1);
  const scaled = m.map((row) => row.map((v) => v / 2 ** s));
  let result = identity(n);
  let term = identity(n);
  for (let k = 1; k <= 30; k++) {
    term = matmul(term, scaled).map((row) => row.map((v) => v / k));
    result = result.map((row, i) => row.map((v, j) => v + term[i]![j]!));
  }
  for (let i = 0; i < s; i++) result = matmul(result, result);
  return result;
}

/** TIDE: `[exp(-t_c L) Z ‖ -L exp(-t_c L) Z] W_out + b`, `Z = X W_in`, `L = I - Â_gcn`. */
export function tideReference(
  a: Matrix,
  x: Matrix,
  wIn: Matrix,
  times: number[],
  wOut: Matrix,
  b: number[],
): Matrix {
  const n = a.length;
  const hatA = gcnNormalized(a);
  const lap = hatA.map((row, i) => row.map((v, j) => (i === j ? 1 : 0) - v));
  const z = matmul(x, wIn);
  const h: Matrix = Array.from({ length: n }, () => new Array<number>(times.length).fill(0));
  times.forEach((t, c) => {
    const heat = expm(lap.map((row) => row.map((v) => -t * v)));
    const col = matmul(
      heat,
      z.map((row) => [row[c]!]),
    );
    col.forEach((r, i) => {
      h[i]![c] = r[0]!;
    });
  });
  const lh = matmul(lap, h);
  const cat = h.map((row, i) => [...row, ...lh[i]!.map((v) => -v)]);
  return matmul(cat, wOut).map((row) => row.map((v, j) => v + b[j]!));
}

/** `e^{-t} I_k(t)` from the power series in float64 (small t only). */
export function scaledBesselI(k: number, t: number): number {
  let sum = 0;
  let term = (t / 2) ** k;
  for (let i = 1; i <= k; i++) term /= i;
  for (let m = 0; m < 200; m++) {
    sum += term;
    term *= (t / 2) ** 2 / ((m + 1) * (m + k + 1));
  }
  return sum * Math.exp(-t);
}
