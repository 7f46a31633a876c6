import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsrGraph, louvainCommunities, modularity } from '../src/index.js';

interface LouvainFixture {
  name: string;
  num_nodes: number;
  edges: Array<[number, number]>;
  fixed_partition: number[];
  cases: Array<{
    resolution: number;
    louvain_modularity: number;
    louvain_count: number;
    fixed_modularity: number;
  }>;
}

const fixtures = (
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'louvain.json'), 'utf8')) as {
    graphs: LouvainFixture[];
  }
).graphs;

describe.each(fixtures)('modularity and Louvain against networkx: $name', (f) => {
  const g = CsrGraph.fromEdges(
    f.num_nodes,
    f.edges.map((e) => e[0]),
    f.edges.map((e) => e[1]),
    { directed: false },
  );

  it.each(f.cases)('resolution $resolution: modularity of a fixed partition is exact', (c) => {
    expect(modularity(g, f.fixed_partition, c.resolution)).toBeCloseTo(c.fixed_modularity, 12);
  });

  it.each(f.cases)('resolution $resolution: Louvain is as good as networkx', (c) => {
    const r = louvainCommunities(g, { resolution: c.resolution, seed: 1 });
    expect(r.modularity).toBeCloseTo(modularity(g, r.community, c.resolution), 12);
    // Louvain is a heuristic: both implementations land within a little of each other.
    expect(r.modularity).toBeGreaterThan(c.louvain_modularity - 0.02);
    expect(new Set(r.community).size).toBe(r.count);
  });
});

describe('modularity edge cases', () => {
  it('is 0 for a graph without edges and rejects wrong lengths and directed graphs', () => {
    expect(modularity(CsrGraph.empty(3), [0, 1, 2])).toBe(0);
    expect(() => modularity(CsrGraph.empty(3), [0, 1])).toThrow(/one entry per node \(3\), got 2/);
    expect(() => modularity(CsrGraph.empty(2, true), [0, 0])).toThrow(/undirected/);
  });

  it('counts a self loop twice in the degree, as networkx does', () => {
    // Triangle plus a self loop on 0; networkx gives 0 for {0,1,2} and -0.125 for {0,1},{2}.
    const g = CsrGraph.fromEdges(3, [0, 1, 2, 0], [1, 2, 0, 0], {
      directed: false,
      selfLoops: 'keep',
    });
    expect(modularity(g, [0, 0, 0])).toBeCloseTo(0, 12);
    expect(modularity(g, [0, 0, 1])).toBeCloseTo(-0.125, 12);
  });
});
