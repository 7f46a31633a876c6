/**
 * Dense plain-JS references for the layers, written from the papers'
 * equations with adjacency matrices as nested arrays (float64), sharing no
 * code with the sparse implementations.
 */
export type Matrix = number[][];

export function matmul(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

export function addBias(a: Matrix, b: number[]): Matrix {
  return a.map((row) => row.map((v, j) => v + b[j]!));
}

/** Dense adjacency with `A[target][source]` = number of arcs source -> target. */
export function denseAdjacency(n: number, src: number[], dst: number[]): Matrix {
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  src.forEach((s, i) => {
    a[dst[i]!]![s] = a[dst[i]!]![s]! + 1;
  });
  return a;
}

export function gcnReference(a: Matrix, x: Matrix, w: Matrix, b: number[]): Matrix {
  const n = a.length;
  const hat = a.map((row, i) => row.map((v, j) => v + (i === j ? 1 : 0)));
  const deg = hat.map((row) => row.reduce((s, v) => s + v, 0));
  const norm = hat.map((row, i) => row.map((v, j) => v / Math.sqrt(deg[i]! * deg[j]!)));
  void n;
  return addBias(matmul(norm, matmul(x, w)), b);
}

export function sageReference(
  a: Matrix,
  x: Matrix,
  wSelf: Matrix,
  wNeigh: Matrix,
  b: number[],
): Matrix {
  const mean = a.map((row) => {
    const d = row.reduce((s, v) => s + v, 0);
    return row.map((v) => (d === 0 ? 0 : v / d));
  });
  const self = matmul(x, wSelf);
  const neigh = matmul(matmul(mean, x), wNeigh);
  return addBias(
    self.map((row, i) => row.map((v, j) => v + neigh[i]![j]!)),
    b,
  );
}

export function ginReference(
  a: Matrix,
  x: Matrix,
  eps: number,
  w1: Matrix,
  b1: number[],
  w2: Matrix,
  b2: number[],
): Matrix {
  const ax = matmul(a, x);
  const agg = x.map((row, i) => row.map((v, j) => (1 + eps) * v + ax[i]![j]!));
  const h = addBias(matmul(agg, w1), b1).map((row) => row.map((v) => Math.max(0, v)));
  return addBias(matmul(h, w2), b2);
}

/** GAT (v1 or v2) with self loops added to the pattern; heads concatenated or averaged. */
export function gatReference(
  a: Matrix,
  x: Matrix,
  opts: {
    heads: number;
    c: number;
    concat: boolean;
    v2: boolean;
    slope: number;
    w: Matrix;
    wDst?: Matrix;
    attSrc: Matrix;
    attDst?: Matrix;
    b: number[];
  },
): Matrix {
  const n = a.length;
  const { heads, c, slope } = opts;
  const z = matmul(x, opts.w);
  const zDst = opts.v2 ? matmul(x, opts.wDst!) : z;
  const lrelu = (v: number): number => (v >= 0 ? v : slope * v);
  const out: Matrix = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    const perHead: number[][] = [];
    for (let h = 0; h < heads; h++) {
      // Sources of i: each arc j -> i (with multiplicity) plus one self loop.
      const sources: number[] = [i];
      for (let j = 0; j < n; j++) for (let k = 0; k < a[i]![j]!; k++) sources.push(j);
      const zh = (m: Matrix, r: number): number[] => m[r]!.slice(h * c, (h + 1) * c);
      const logits = sources.map((j) => {
        if (opts.v2) {
          const e = zh(z, j).map((v, d) => lrelu(v + zh(zDst, i)[d]!));
          return e.reduce((s, v, d) => s + v * opts.attSrc[h]![d]!, 0);
        }
        const s = zh(z, j).reduce((acc, v, d) => acc + v * opts.attSrc[h]![d]!, 0);
        const t = zh(z, i).reduce((acc, v, d) => acc + v * opts.attDst![h]![d]!, 0);
        return lrelu(s + t);
      });
      const m = Math.max(...logits);
      const ex = logits.map((l) => Math.exp(l - m));
      const zsum = ex.reduce((s, v) => s + v, 0);
      const agg = new Array<number>(c).fill(0);
      sources.forEach((j, k) => {
        zh(z, j).forEach((v, d) => {
          agg[d]! += (ex[k]! / zsum) * v;
        });
      });
      perHead.push(agg);
    }
    const combined = opts.concat
      ? perHead.flat()
      : perHead[0]!.map((_, d) => perHead.reduce((s, p) => s + p[d]!, 0) / heads);
    out[i] = combined.map((v, d) => v + opts.b[d]!);
  }
  return out;
}
