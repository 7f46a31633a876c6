import { describe, expect, it } from 'vitest';
import {
  bfsDistances,
  connectedComponents,
  coreNumbers,
  distanceRings,
  laplacianPE,
  multiSourceBfs,
  randomWalkPE,
} from '../src/index.js';
import { fixtureGraph, loadNxFixtures } from './helpers.js';

const fixtures = loadNxFixtures();

describe.each(fixtures)('against networkx: $name', (f) => {
  const g = fixtureGraph(f);

  it('core numbers match nx.core_number', () => {
    expect(Array.from(coreNumbers(g))).toEqual(f.core_numbers);
  });

  it('BFS distances match single_source_shortest_path_length', () => {
    for (const s of f.bfs_sources) expect(Array.from(bfsDistances(g, s))).toEqual(f.bfs[String(s)]);
    expect(Array.from(multiSourceBfs(g, f.bfs_sources))).toEqual(f.multi_source_bfs);
  });

  it('connected components match', () => {
    const c = connectedComponents(g);
    expect(c.count).toBe(f.num_components);
    expect(Array.from(c.component)).toEqual(f.component_of);
  });

  it.runIf(!f.directed)('distance rings match cutoff BFS', () => {
    const rings = distanceRings(g, 3);
    for (let d = 0; d < 3; d++) {
      const ip = rings.indptr[d]!;
      const ix = rings.indices[d]!;
      for (let u = 0; u < f.num_nodes; u++) {
        expect(Array.from(ix.subarray(ip[u]!, ip[u + 1]!))).toEqual(f.distance_rings![d]![u]);
      }
    }
  });

  it.runIf(!f.directed)('random-walk PE matches diag(P^i)', () => {
    const pe = randomWalkPE(g, 4);
    for (let u = 0; u < f.num_nodes; u++) {
      for (let i = 0; i < 4; i++) expect(pe[u * 4 + i]!).toBeCloseTo(f.rwpe![u]![i]!, 5);
    }
  });

  it.runIf(!f.directed)('Laplacian PE eigenpairs match the normalized Laplacian spectrum', () => {
    const k = Math.min(6, f.num_nodes - f.num_components);
    const { pe, eigenvalues } = laplacianPE(g, k);
    const expected = f.normalized_laplacian_eigenvalues!.slice(
      f.num_components,
      f.num_components + k,
    );
    for (let j = 0; j < k; j++) expect(eigenvalues[j]!).toBeCloseTo(expected[j]!, 6);
    // Residual ||L v - λ v|| of each returned vector, with L = I - D^-1/2 A D^-1/2.
    const deg = g.degree();
    for (let j = 0; j < k; j++) {
      let res = 0;
      let norm = 0;
      for (let u = 0; u < g.numNodes; u++) {
        let s = 0;
        for (let p = g.indptr[u]!; p < g.indptr[u + 1]!; p++) {
          const v = g.indices[p]!;
          s += pe[v * k + j]! / Math.sqrt(deg[u]! * deg[v]!);
        }
        const lv = deg[u] === 0 ? 0 : pe[u * k + j]! - s;
        res += (lv - eigenvalues[j]! * pe[u * k + j]!) ** 2;
        norm += pe[u * k + j]! ** 2;
      }
      expect(norm).toBeCloseTo(1, 4);
      expect(Math.sqrt(res)).toBeLessThan(1e-4);
    }
  });
});
