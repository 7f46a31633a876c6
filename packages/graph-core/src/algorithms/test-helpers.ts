// Test-only helpers shared by the algorithm tests (not exported from the package).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CsrGraph } from '../csr/csr-graph.js';

/** Parse `test/fixtures/algorithms/<name>` (written by make_algorithm_fixtures.py). */
export function loadFixture<T>(name: string): T {
  const url = new URL(`../../test/fixtures/algorithms/${name}`, import.meta.url);
  return JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as T;
}

/** Undirected simple graph from an edge list of pairs. */
export function graphFromPairs(n: number, edges: readonly (readonly number[])[]): CsrGraph {
  return CsrGraph.fromEdges(
    n,
    edges.map((e) => e[0]!),
    edges.map((e) => e[1]!),
    { dedupe: true, selfLoops: 'drop' },
  );
}

/**
 * fast-check arbitrary of small undirected simple graphs: 0..maxN nodes, any
 * edge set (so empty, single-node and disconnected graphs all occur).
 */
export function arbitraryGraph(maxN = 12, maxEdges = 40): fc.Arbitrary<CsrGraph> {
  return fc.integer({ min: 0, max: maxN }).chain((n) =>
    fc
      .array(fc.tuple(fc.nat(Math.max(0, n - 1)), fc.nat(Math.max(0, n - 1))), {
        maxLength: n === 0 ? 0 : maxEdges,
      })
      .map((pairs) => graphFromPairs(n, pairs)),
  );
}
