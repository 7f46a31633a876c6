/**
 * Plain-JS (float64) reference for message passing: arcs read straight from
 * the CSR arrays, messages and reductions written out node by node. Shares
 * no code with src/message-passing.
 */
import type { CsrGraph } from '@plexus/graph-core';

export type Matrix = number[][];

/** One message `source -> target` with its edge attribute row. */
export interface RefArc {
  readonly source: number;
  readonly target: number;
  readonly e: number[];
}

/**
 * Arcs in the graph's CSR order (directed: row `u` is the source; undirected:
 * row `u` is the target), swapped for `target_to_source`, then one self loop
 * per node lacking one, carrying the mean attribute of the arcs into it.
 */
export function referenceArcs(
  graph: CsrGraph,
  e: Matrix,
  flow: 'source_to_target' | 'target_to_source',
  selfLoops: boolean,
): RefArc[] {
  const arcs: RefArc[] = [];
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = graph.indptr[u]!; p < graph.indptr[u + 1]!; p++) {
      const v = graph.indices[p]!;
      let [s, t] = graph.directed ? [u, v] : [v, u];
      if (flow === 'target_to_source') [s, t] = [t, s];
      arcs.push({ source: s, target: t, e: e[p]! });
    }
  }
  if (!selfLoops) return arcs;
  const original = arcs.slice();
  const dim = e[0]?.length ?? 0;
  for (let u = 0; u < graph.numNodes; u++) {
    if (original.some((a) => a.source === u && a.target === u)) continue;
    const into = original.filter((a) => a.target === u);
    const mean = new Array<number>(dim).fill(0);
    for (const a of into) {
      a.e.forEach((v, k) => {
        mean[k] = mean[k]! + v / into.length;
      });
    }
    arcs.push({ source: u, target: u, e: mean });
  }
  return arcs;
}

/** `x · w` for plain matrices. */
export function linear(x: Matrix, w: Matrix): Matrix {
  return x.map((row) => w[0]!.map((_, k) => row.reduce((a, v, j) => a + v * w[j]![k]!, 0)));
}

/** A reduction the reference knows, with softmax scores `[numArcs][C]` and temperature `[C]` or `[1]`. */
export type RefAggregation =
  | 'sum'
  | 'mean'
  | 'max'
  | 'min'
  | { softmax: true; scores?: Matrix; t: number[] };

/** Reduce per-arc `messages` (`width` columns) at each arc's target; nodes without arcs get 0. */
export function referenceAggregate(
  numNodes: number,
  arcs: readonly RefArc[],
  messages: Matrix,
  aggregation: RefAggregation,
  width = messages[0]?.length ?? 0,
): Matrix {
  const f = width;
  const out: Matrix = [];
  for (let i = 0; i < numNodes; i++) {
    const mine = arcs.map((a, k) => (a.target === i ? k : -1)).filter((k) => k >= 0);
    const row = new Array<number>(f).fill(0);
    if (mine.length > 0) {
      for (let c = 0; c < f; c++) {
        const vals = mine.map((k) => messages[k]![c]!);
        if (aggregation === 'sum') row[c] = vals.reduce((a, b) => a + b, 0);
        else if (aggregation === 'mean') row[c] = vals.reduce((a, b) => a + b, 0) / vals.length;
        else if (aggregation === 'max') row[c] = Math.max(...vals);
        else if (aggregation === 'min') row[c] = Math.min(...vals);
        else {
          const { scores, t } = aggregation;
          // Without scores the messages score themselves, channel by channel.
          const cols = scores === undefined ? f : scores[0]!.length;
          const head = Math.floor(c / (f / cols));
          const temp = t.length === 1 ? t[0]! : t[head]!;
          const logits = mine.map((k, q) =>
            scores === undefined ? temp * vals[q]! : temp * scores[k]![head]!,
          );
          const top = Math.max(...logits);
          const ex = logits.map((l) => Math.exp(l - top));
          const z = ex.reduce((a, b) => a + b, 0);
          row[c] = vals.reduce((a, v, q) => a + (ex[q]! / z) * v, 0);
        }
      }
    }
    out.push(row);
  }
  return out;
}

/** `values ⊙ w` per arc: `w[k]` of length 1 scales the whole row, length `H` scales `H` equal blocks. */
export function scaleRows(values: Matrix, w: Matrix): Matrix {
  return values.map((row, k) => {
    const h = w[k]!.length;
    return row.map((v, c) => v * w[k]![Math.floor(c / (row.length / h))]!);
  });
}
