import type { BuiltCsr } from './build.js';

/**
 * CSR of the transpose, rows sorted (each row is filled in increasing source
 * order). O(n + m) counting sort.
 */
export function transposeCsr(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
): BuiltCsr {
  const tptr = new Int32Array(numNodes + 1);
  for (let p = 0; p < indices.length; p++) tptr[indices[p]! + 1]!++;
  for (let i = 0; i < numNodes; i++) tptr[i + 1]! += tptr[i]!;
  const fill = tptr.slice(0, numNodes);
  const tind = new Int32Array(indices.length);
  const tw = weights === undefined ? undefined : new Float32Array(weights.length);
  for (let u = 0; u < numNodes; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const q = fill[indices[p]!]!++;
      tind[q] = u;
      if (tw !== undefined) tw[q] = weights![p]!;
    }
  }
  return { indptr: tptr, indices: tind, weights: tw };
}

/**
 * Add `(u, u)` with `weight` to every node that has no self loop yet; existing
 * self loops keep their weight (PyG's `add_remaining_self_loops`), so applying
 * it twice changes nothing. Rows stay sorted.
 */
export function addSelfLoopsCsr(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
  weight: number,
  forceWeights: boolean,
): BuiltCsr {
  const has = new Uint8Array(numNodes);
  let missing = 0;
  for (let u = 0; u < numNodes; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      if (indices[p] === u) {
        has[u] = 1;
        break;
      }
    }
    if (has[u] === 0) missing++;
  }
  const needW = weights !== undefined || forceWeights || weight !== 1;
  const nptr = new Int32Array(numNodes + 1);
  const nind = new Int32Array(indices.length + missing);
  const nw = needW ? new Float32Array(nind.length) : undefined;
  let q = 0;
  for (let u = 0; u < numNodes; u++) {
    let inserted = has[u] === 1;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (!inserted && v > u) {
        nind[q] = u;
        if (nw !== undefined) nw[q] = weight;
        q++;
        inserted = true;
      }
      nind[q] = v;
      if (nw !== undefined) nw[q] = weights === undefined ? 1 : weights[p]!;
      q++;
    }
    if (!inserted) {
      nind[q] = u;
      if (nw !== undefined) nw[q] = weight;
      q++;
    }
    nptr[u + 1] = q;
  }
  return { indptr: nptr, indices: nind, weights: nw };
}

/** Weighted out-degree (row sums; unweighted arcs count 1). */
export function rowSums(
  numNodes: number,
  indptr: Int32Array,
  weights: Float32Array | undefined,
): Float64Array {
  const d = new Float64Array(numNodes);
  for (let u = 0; u < numNodes; u++) {
    if (weights === undefined) d[u] = indptr[u + 1]! - indptr[u]!;
    else {
      let s = 0;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) s += weights[p]!;
      d[u] = s;
    }
  }
  return d;
}

/** Weights `w_uv * d_u^-1/2 * d_v^-1/2` given row sums `d`; zero-degree rows give 0. */
export function symmetricScale(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
  d: Float64Array,
): Float32Array {
  const inv = new Float64Array(numNodes);
  for (let u = 0; u < numNodes; u++) inv[u] = d[u]! > 0 ? 1 / Math.sqrt(d[u]!) : 0;
  const out = new Float32Array(indices.length);
  for (let u = 0; u < numNodes; u++) {
    const iu = inv[u]!;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      out[p] = (weights === undefined ? 1 : weights[p]!) * iu * inv[indices[p]!]!;
    }
  }
  return out;
}

/** Weights `w_uv / d_u` (random-walk normalisation); zero-degree rows give 0. */
export function rowScale(
  numNodes: number,
  indptr: Int32Array,
  weights: Float32Array | undefined,
  d: Float64Array,
): Float32Array {
  const out = new Float32Array(indptr[numNodes]!);
  for (let u = 0; u < numNodes; u++) {
    const inv = d[u]! !== 0 ? 1 / d[u]! : 0;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++)
      out[p] = (weights === undefined ? 1 : weights[p]!) * inv;
  }
  return out;
}

/**
 * Arcs among `nodes` only, relabelled to positions in `nodes` (which must be
 * distinct). Rows are re-sorted because relabelling can reorder neighbours.
 */
export function inducedCsr(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
  nodes: Int32Array,
): BuiltCsr {
  const map = new Int32Array(numNodes).fill(-1);
  for (let i = 0; i < nodes.length; i++) map[nodes[i]!] = i;
  const k = nodes.length;
  const nptr = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) {
    const u = nodes[i]!;
    let c = 0;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) if (map[indices[p]!] !== -1) c++;
    nptr[i + 1] = nptr[i]! + c;
  }
  const nind = new Int32Array(nptr[k]!);
  const nw = weights === undefined ? undefined : new Float32Array(nind.length);
  for (let i = 0; i < k; i++) {
    const u = nodes[i]!;
    let q = nptr[i]!;
    const rowStart = q;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const j = map[indices[p]!]!;
      if (j === -1) continue;
      nind[q] = j;
      if (nw !== undefined) nw[q] = weights![p]!;
      q++;
    }
    sortRow(nind, nw, rowStart, q);
  }
  return { indptr: nptr, indices: nind, weights: nw };
}

/** Insertion sort for short rows, index sort for long ones; keeps weights aligned and ties stable. */
function sortRow(ind: Int32Array, w: Float32Array | undefined, a: number, b: number): void {
  let sorted = true;
  for (let p = a + 1; p < b; p++) {
    if (ind[p]! < ind[p - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  const order = Array.from({ length: b - a }, (_, i) => a + i);
  order.sort((x, y) => ind[x]! - ind[y]! || x - y);
  const si = order.map((p) => ind[p]!);
  const sw = w === undefined ? undefined : order.map((p) => w[p]!);
  for (let i = 0; i < si.length; i++) {
    ind[a + i] = si[i]!;
    if (w !== undefined) w[a + i] = sw![i]!;
  }
}
