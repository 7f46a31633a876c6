/** Dense plain-JS references for the edge-feature layers, over explicit arc lists. */
export type Matrix = number[][];

/** One message `source -> target` carrying edge feature row `e`. */
export interface Arc {
  readonly source: number;
  readonly target: number;
  readonly e: number[];
}

const relu = (v: number): number => Math.max(0, v);

/** `x · w + b` for plain matrices. */
export function linear(x: Matrix, w: Matrix, b?: number[]): Matrix {
  return x.map((row) =>
    w[0]!.map((_, k) => row.reduce((a, v, j) => a + v * w[j]![k]!, b?.[k] ?? 0)),
  );
}

/** GINE (Hu et al., 2020): `MLP((1+ε) h_i + Σ_{j->i} ReLU(h_j + e_ji))`. */
export function gineReference(
  x: Matrix,
  arcs: readonly Arc[],
  eps: number,
  p: { w1: Matrix; b1: number[]; w2: Matrix; b2: number[] },
): Matrix {
  const z = x.map((row) => row.map((v) => (1 + eps) * v));
  for (const a of arcs) {
    const zi = z[a.target]!;
    x[a.source]!.forEach((v, k) => {
      zi[k] = zi[k]! + relu(v + a.e[k]!);
    });
  }
  const h = linear(z, p.w1, p.b1).map((r) => r.map(relu));
  return linear(h, p.w2, p.b2);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** Affine parameters `{ w, b }` of one GatedGCN map. */
export interface Affine {
  readonly w: Matrix;
  readonly b: number[];
}

/**
 * GatedGCN (Bresson & Laurent, 2017; edge gates of Dwivedi et al., 2020),
 * arc by arc: returns updated nodes and edges (arc order of `arcs`).
 */
export function gatedGcnReference(
  x: Matrix,
  arcs: readonly Arc[],
  p: { A: Affine; B: Affine; C: Affine; D: Affine; E: Affine },
  residual: boolean,
  epsilon: number,
): { nodes: Matrix; edges: Matrix } {
  const [Ah, Bh, Dh, Eh] = [p.A, p.B, p.D, p.E].map((l) => linear(x, l.w, l.b)) as [
    Matrix,
    Matrix,
    Matrix,
    Matrix,
  ];
  const Ce = linear(
    arcs.map((a) => a.e),
    p.C.w,
    p.C.b,
  );
  const out = Ah[0]!.length;
  const num = x.map(() => new Array<number>(out).fill(0));
  const den = x.map(() => new Array<number>(out).fill(0));
  const edges: Matrix = [];
  arcs.forEach((a, q) => {
    const eHat = Ce[q]!.map((c, k) => c + Dh[a.target]![k]! + Eh[a.source]![k]!);
    eHat.forEach((v, k) => {
      const s = sigmoid(v);
      num[a.target]![k] = num[a.target]![k]! + s * Bh[a.source]![k]!;
      den[a.target]![k] = den[a.target]![k]! + s;
    });
    edges.push(eHat.map((v, k) => (residual ? a.e[k]! : 0) + relu(v)));
  });
  const nodes = Ah.map((row, i) =>
    row.map((v, k) => (residual ? x[i]![k]! : 0) + relu(v + num[i]![k]! / (den[i]![k]! + epsilon))),
  );
  return { nodes, edges };
}
