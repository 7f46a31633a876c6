import type { CsrGraph } from '../../csr/csr-graph.js';
import { kCoreMask } from './kcore.js';

/**
 * Mutable K-core under vertex deletion: keeps the core mask, each vertex's
 * degree inside the current core and inside the remaining graph, and prunes
 * incrementally, so a whole attack costs O(n + m) of pruning work.
 */
export class ShrinkingKCore {
  /** 1 while the vertex is in the current K-core. */
  readonly inCore: Uint8Array;
  /** 1 once the vertex has been deleted by the attacker. */
  readonly removed: Uint8Array;
  /** Neighbours inside the current K-core (valid for core vertices). */
  readonly coreDeg: Int32Array;
  /** Neighbours not deleted by the attacker (pruned ones still count). */
  readonly fullDeg: Int32Array;
  /** Current K-core size. */
  size = 0;
  private readonly stack: Int32Array;

  constructor(
    private readonly graph: CsrGraph,
    private readonly k: number,
  ) {
    const n = graph.numNodes;
    this.inCore = kCoreMask(graph, k);
    this.removed = new Uint8Array(n);
    this.coreDeg = new Int32Array(n);
    this.fullDeg = new Int32Array(n);
    this.stack = new Int32Array(n);
    const { indptr, indices } = graph;
    for (let u = 0; u < n; u++) {
      this.size += this.inCore[u]!;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const v = indices[p]!;
        if (v === u) continue;
        this.fullDeg[u]!++;
        if (this.inCore[v] === 1) this.coreDeg[u]!++;
      }
    }
  }

  /** Delete core vertex `u`, then prune to the new K-core. */
  remove(u: number): void {
    const { indptr, indices } = this.graph;
    this.removed[u] = 1;
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v !== u) this.fullDeg[v]!--;
    }
    let top = 0;
    this.inCore[u] = 0;
    this.size--;
    this.stack[top++] = u;
    while (top > 0) {
      const w = this.stack[--top]!;
      for (let p = indptr[w]!; p < indptr[w + 1]!; p++) {
        const v = indices[p]!;
        if (v === w || this.inCore[v] === 0) continue;
        this.coreDeg[v]!--;
        if (this.coreDeg[v]! < this.k) {
          this.inCore[v] = 0;
          this.size--;
          this.stack[top++] = v;
        }
      }
    }
  }
}
