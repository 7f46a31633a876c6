import { MaxHeap } from '../graph/heap.js';
import { SCRATCH_ENTRIES, type VectorStore } from '../store/vector-store.js';

/**
 * Exact top-k by scanning vectors `0..count-1` in chunks with the store's
 * kernel: ground truth for the approximate search, and the whole search for
 * small sets. `allowed` (internal id -> keep?) may be null to keep all.
 * Returns internal ids and distances, nearest first.
 */
export function exactTopK(
  store: VectorStore,
  q: number,
  count: number,
  k: number,
  allowed: ((id: number) => boolean) | null,
  slot = 0,
): { ids: Int32Array; dists: Float32Array } {
  const heap = new MaxHeap(k + 1);
  const out = store.outAddress(slot);
  const outBase = out >> 2;
  const f32 = store.f32;
  for (let first = 0; first < count; first += SCRATCH_ENTRIES) {
    const n = Math.min(SCRATCH_ENTRIES, count - first);
    store.kernel.scan(q, first, n, out);
    for (let j = 0; j < n; j++) {
      const d = f32[outBase + j]!;
      if (heap.size === k && d >= heap.topKey()) continue;
      const id = first + j;
      if (allowed !== null && !allowed(id)) continue;
      heap.push(d, id);
      if (heap.size > k) heap.pop();
    }
  }
  const ids = new Int32Array(heap.size);
  const dists = new Float32Array(heap.size);
  heap.drainAscending(ids, dists);
  return { ids, dists };
}
