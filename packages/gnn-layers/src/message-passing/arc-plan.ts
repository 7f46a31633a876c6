import type { CsrGraph } from '@plexus/graph-core';
import { CsrMatrix } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { edgeArcs } from '../layers/edge-arcs.js';
import type { Flow } from './types.js';

/**
 * The arcs messages travel on, for one graph, flow and self-loop choice:
 * `source`/`target` per arc in the graph's CSR order plus appended self
 * loops ('graph' arc order), and the aggregation matrix (rows = targets,
 * columns = sources) whose entry `k` is arc `perm[k]` ('target' arc order),
 * for the spmm paths. Built once and cached.
 */
export interface ArcPlan {
  readonly numNodes: number;
  readonly numEdges: number;
  readonly numArcs: number;
  readonly source: Int32Array;
  readonly target: Int32Array;
  /** Nodes that got an added self loop (arc `numEdges + k` is node `loopNodes[k]`'s loop). */
  readonly loopNodes: Int32Array;
  readonly matrix: CsrMatrix;
  /** Source of each matrix entry (`matrix.indices`). */
  readonly sortedSource: Int32Array;
  /** Target (row) of each matrix entry. */
  readonly sortedTarget: Int32Array;
  /** Arc of each matrix entry. */
  readonly perm: Int32Array;
  /** True when `perm[k] === k` (undirected graphs, default flow, no added loops). */
  readonly identity: boolean;
  /** Device tensors of the plan on the active backend. */
  tensors(): ArcTensors;
  dispose(): void;
}

/** An {@link ArcPlan}'s arrays as kept tensors (never dispose them yourself). */
export interface ArcTensors {
  readonly source: tf.Tensor1D;
  readonly target: tf.Tensor1D;
  readonly sortedSource: tf.Tensor1D;
  readonly sortedTarget: tf.Tensor1D;
  readonly perm: tf.Tensor1D;
  /** Inverse of `perm`: the matrix entry of each arc. */
  readonly entryOf: tf.Tensor1D;
  /** `1 / in-degree` of each matrix entry's row: mean aggregation as an spmm. */
  readonly invCount: tf.Tensor1D;
  readonly loopNodes: tf.Tensor1D;
  /** Original arcs' targets (without loops), for the loops' mean edge attribute. */
  readonly edgeTarget: tf.Tensor1D;
}

const cache = new WeakMap<CsrGraph, Map<string, ArcPlan>>();

/** The cached {@link ArcPlan} of `graph` for this flow and self-loop choice. */
export function arcPlan(graph: CsrGraph, flow: Flow, selfLoops: boolean): ArcPlan {
  let plans = cache.get(graph);
  if (plans === undefined) {
    plans = new Map();
    cache.set(graph, plans);
  }
  const key = `${flow}:${selfLoops}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlan(graph, flow, selfLoops);
    plans.set(key, plan);
  }
  return plan;
}

/** Release the device tensors `propagate` cached for `graph`. */
export function disposePropagateCache(graph: CsrGraph): void {
  const plans = cache.get(graph);
  if (plans === undefined) return;
  for (const p of plans.values()) p.dispose();
  cache.delete(graph);
}

function buildPlan(graph: CsrGraph, flow: Flow, selfLoops: boolean): ArcPlan {
  const n = graph.numNodes;
  const e = graph.numEdges;
  const arcs = edgeArcs(graph);
  const [src, dst] =
    flow === 'source_to_target' ? [arcs.source, arcs.target] : [arcs.target, arcs.source];
  let loopNodes = new Int32Array(0);
  if (selfLoops) {
    const hasLoop = new Uint8Array(n);
    for (let p = 0; p < e; p++) if (src[p] === dst[p]) hasLoop[src[p]!] = 1;
    let missing = 0;
    for (let u = 0; u < n; u++) missing += 1 - hasLoop[u]!;
    loopNodes = new Int32Array(missing);
    let k = 0;
    for (let u = 0; u < n; u++) if (hasLoop[u] === 0) loopNodes[k++] = u;
  }
  const numArcs = e + loopNodes.length;
  const source = new Int32Array(numArcs);
  const target = new Int32Array(numArcs);
  source.set(src);
  target.set(dst);
  source.set(loopNodes, e);
  target.set(loopNodes, e);
  // Two stable counting sorts (by source, then by target) order entries by
  // (target, source), as a CSR built from sorted edges would be; ties keep
  // arc order, so undirected graphs in the default flow get the identity.
  const bySource = countingOrder(
    Int32Array.from({ length: numArcs }, (_, p) => p),
    source,
    n,
  );
  const perm = countingOrder(bySource, target, n);
  const indptr = new Int32Array(n + 1);
  for (let p = 0; p < numArcs; p++) indptr[target[p]! + 1]!++;
  for (let u = 0; u < n; u++) indptr[u + 1]! += indptr[u]!;
  const indices = Int32Array.from(perm, (p) => source[p]!);
  const matrix = CsrMatrix.fromArrays({ indptr, indices, numCols: n }, { validate: false });
  let identity = true;
  for (let k = 0; k < numArcs && identity; k++) identity = perm[k] === k;
  const sortedTarget = matrix.rowIds();
  const entryOf = new Int32Array(numArcs);
  for (let k = 0; k < numArcs; k++) entryOf[perm[k]!] = k;
  const invCount = new Float32Array(numArcs);
  for (let u = 0; u < n; u++) {
    const d = indptr[u + 1]! - indptr[u]!;
    invCount.fill(1 / d, indptr[u]!, indptr[u + 1]!);
  }
  const byBackend = new Map<string, ArcTensors>();
  return {
    numNodes: n,
    numEdges: e,
    numArcs,
    source,
    target,
    loopNodes,
    matrix,
    sortedSource: indices,
    sortedTarget,
    perm,
    identity,
    tensors() {
      const backend = tf.getBackend();
      let t = byBackend.get(backend);
      if (t === undefined || t.source.isDisposed) {
        t = tf.tidy(() => ({
          source: tf.keep(tf.tensor1d(source, 'int32')),
          target: tf.keep(tf.tensor1d(target, 'int32')),
          sortedSource: tf.keep(tf.tensor1d(indices, 'int32')),
          sortedTarget: tf.keep(tf.tensor1d(sortedTarget, 'int32')),
          perm: tf.keep(tf.tensor1d(perm, 'int32')),
          entryOf: tf.keep(tf.tensor1d(entryOf, 'int32')),
          invCount: tf.keep(tf.tensor1d(invCount, 'float32')),
          loopNodes: tf.keep(tf.tensor1d(loopNodes, 'int32')),
          edgeTarget: tf.keep(tf.tensor1d(dst, 'int32')),
        }));
        byBackend.set(backend, t);
      }
      return t;
    },
    dispose() {
      for (const t of byBackend.values()) tf.dispose(Object.values(t));
      byBackend.clear();
      matrix.dispose();
    },
  };
}

/** `order` stably re-sorted by `key[order[k]]` in `[0, n)`. */
function countingOrder(order: Int32Array, key: Int32Array, n: number): Int32Array {
  const start = new Int32Array(n + 1);
  for (let k = 0; k < order.length; k++) start[key[order[k]!]! + 1]!++;
  for (let u = 0; u < n; u++) start[u + 1]! += start[u]!;
  const out = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    const p = order[k]!;
    out[start[key[p]!]!++] = p;
  }
  return out;
}
