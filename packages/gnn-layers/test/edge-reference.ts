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
