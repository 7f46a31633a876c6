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

/** `dist[i][j]`: fewest arcs on a path `j -> ... -> i` (Floyd–Warshall), Infinity if none. */
export function pathDistances(a: Matrix): Matrix {
  const n = a.length;
  const d = a.map((row, i) => row.map((v, j) => (i === j ? 0 : v > 0 ? 1 : Infinity)));
  for (let m = 0; m < n; m++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const via = d[i]![m]! + d[m]![j]!;
        if (via < d[i]![j]!) d[i]![j] = via;
      }
  return d;
}

/** ν-DRew from its equation, with mean aggregation over each k-hop ring. */
export function drewReference(
  a: Matrix,
  x: Matrix,
  nu: number,
  p: {
    wEnc: Matrix;
    bEnc: number[];
    /** Per layer: `[W_self, W_1, ..., W_{ℓ+1}]`. */
    hop: Matrix[][];
    bias: number[][];
    wOut: Matrix;
    bOut: number[];
  },
): Matrix {
  const dist = pathDistances(a);
  const n = a.length;
  const addRow = (m: Matrix, b: number[]): Matrix => m.map((r) => r.map((v, j) => v + b[j]!));
  const history: Matrix[] = [addRow(matmul(x, p.wEnc), p.bEnc)];
  p.hop.forEach((weights, l) => {
    const hidden = p.bias[l]!.length;
    const own = matmul(history[l]!, weights[0]!);
    const pre: Matrix = own.map((r) => r.map((v, c) => v + p.bias[l]![c]!));
    weights.slice(1).forEach((w, km1) => {
      const k = km1 + 1;
      const src = history[l - Math.max(0, k - nu)]!;
      for (let i = 0; i < n; i++) {
        const ring = dist[i]!.flatMap((d, j) => (d === k ? [j] : []));
        if (ring.length === 0) continue;
        const mean = new Array<number>(hidden).fill(0);
        for (const j of ring)
          src[j]!.forEach((v, c) => {
            mean[c]! += v / ring.length;
          });
        const msg = matmul([mean], w)[0]!;
        msg.forEach((v, c) => {
          pre[i]![c]! += v;
        });
      }
    });
    history.push(history[l]!.map((r, i) => r.map((v, c) => v + Math.max(0, pre[i]![c]!))));
  });
  return addRow(matmul(history.at(-1)!, p.wOut), p.bOut);
}
