// Loads hnswlib-node (the authors' C++ HNSW, built with node-gyp) if it can;
// the benchmark runs without it and says why.
import { createRequire } from 'node:module';

/** The part of hnswlib-node's HierarchicalNSW the benchmark uses. */
export interface HnswlibIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}

/** A constructor for hnswlib indexes, or the reason it could not be loaded. */
export function loadHnswlib():
  | { ok: true; create: (dim: number) => HnswlibIndex }
  | { ok: false; reason: string } {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('hnswlib-node') as {
      HierarchicalNSW: new (space: string, dim: number) => HnswlibIndex;
    };
    return { ok: true, create: (dim) => new mod.HierarchicalNSW('l2', dim) };
  } catch (error) {
    return {
      ok: false,
      reason: error instanceof Error ? error.message.split('\n')[0]! : String(error),
    };
  }
}

/**
 * hnswlib's own allocation for an L2 index of `n` float vectors, from
 * hnswalg.h: level-0 block per element (links, data, label), a link-list
 * pointer, an int level and a std::mutex per element, the label hash map
 * (~40 B per entry), 65536 label-operation mutexes and the upper-level
 * blocks (about n / (M - 1) of them at (M + 1) * 4 bytes).
 */
export function hnswlibModelBytes(n: number, dim: number, m: number): number {
  const m0 = 2 * m;
  const level0 = 4 + m0 * 4 + dim * 4 + 8;
  const perElement = level0 + 8 + 4 + 40 + 40 + 2;
  const upper = (n / (m - 1)) * (m + 1) * 4;
  return n * perElement + 65536 * 40 + upper;
}
