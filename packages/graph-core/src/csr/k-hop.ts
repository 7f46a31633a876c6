/** BFS up to `k` hops from `seeds`; returns discovered nodes (seeds first) and hops. */
export function kHopNodes(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  seeds: ArrayLike<number>,
  k: number,
): { nodes: Int32Array; hops: Int32Array } {
  const dist = new Int32Array(numNodes).fill(-1);
  const queue = new Int32Array(numNodes);
  let tail = 0;
  for (let i = 0; i < seeds.length; i++) {
    const s = seeds[i]!;
    if (dist[s] === -1) {
      dist[s] = 0;
      queue[tail++] = s;
    }
  }
  for (let head = 0; head < tail; head++) {
    const u = queue[head]!;
    const du = dist[u]!;
    if (du === k) continue;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (dist[v] === -1) {
        dist[v] = du + 1;
        queue[tail++] = v;
      }
    }
  }
  const nodes = queue.slice(0, tail);
  return { nodes, hops: Int32Array.from(nodes, (u) => dist[u]!) };
}
