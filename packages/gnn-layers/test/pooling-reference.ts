/** Dense plain-JS references for the graph-level readouts. */
export type Matrix = number[][];

function groups(x: Matrix, graphIndex: Int32Array, numGraphs: number): Matrix[] {
  const out: Matrix[] = Array.from({ length: numGraphs }, () => []);
  x.forEach((row, i) => {
    out[graphIndex[i]!]!.push(row);
  });
  return out;
}

const zeros = (f: number): number[] => new Array<number>(f).fill(0);

/** Per-graph reduction of node rows; empty graphs give zeros. */
export function poolReference(
  x: Matrix,
  graphIndex: Int32Array,
  numGraphs: number,
  reduce: 'sum' | 'mean' | 'max',
): Matrix {
  const f = x[0]!.length;
  return groups(x, graphIndex, numGraphs).map((rows) => {
    if (rows.length === 0) return zeros(f);
    return zeros(f).map((_, k) => {
      const col = rows.map((r) => r[k]!);
      if (reduce === 'max') return Math.max(...col);
      const s = col.reduce((a, v) => a + v, 0);
      return reduce === 'sum' ? s : s / col.length;
    });
  });
}

/** Li et al. (2016) soft attention readout: softmax over each graph of `x·w + b`. */
export function attentionPoolReference(
  x: Matrix,
  graphIndex: Int32Array,
  numGraphs: number,
  w: number[],
  b: number,
): Matrix {
  const f = x[0]!.length;
  return groups(x, graphIndex, numGraphs).map((rows) => {
    const scores = rows.map((r) => r.reduce((a, v, k) => a + v * w[k]!, b));
    const m = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - m));
    const z = e.reduce((a, v) => a + v, 0);
    return zeros(f).map((_, k) => rows.reduce((a, r, i) => a + (e[i]! / z) * r[k]!, 0));
  });
}
