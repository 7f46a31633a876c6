import { readFileSync } from 'node:fs';
import { CsrGraph } from '../src/index.js';

/** One graph of `fixtures/networkx-fixtures.json` (written by make_fixtures.py). */
export interface NxFixture {
  name: string;
  directed: boolean;
  num_nodes: number;
  edges: [number, number][];
  core_numbers: number[];
  bfs_sources: number[];
  bfs: Record<string, number[]>;
  multi_source_bfs: number[];
  num_components: number;
  component_of: number[];
  normalized_laplacian_eigenvalues?: number[];
  distance_rings?: number[][][];
  rwpe?: number[][];
}

/** All fixture graphs. */
export function loadNxFixtures(): NxFixture[] {
  const raw = JSON.parse(
    readFileSync(new URL('./fixtures/networkx-fixtures.json', import.meta.url), 'utf8'),
  ) as Record<string, NxFixture>;
  return Object.entries(raw)
    .filter(([k]) => !k.startsWith('_'))
    .map(([, v]) => v);
}

/** The fixture's graph as CSR. */
export function fixtureGraph(f: NxFixture): CsrGraph {
  return CsrGraph.fromEdges(
    f.num_nodes,
    f.edges.map((e) => e[0]),
    f.edges.map((e) => e[1]),
    { directed: f.directed },
  );
}
