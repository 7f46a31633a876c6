import Graph, { UndirectedGraph } from 'graphology';
import { complete } from 'graphology-generators/classic';
import { clusters } from 'graphology-generators/random';
import { describe, expect, it } from 'vitest';
import {
  fromGraphology,
  fromGraphologyJSON,
  toGraphology,
  toGraphologyJSON,
} from '../src/index.js';

/** Edges as sorted `source|target|weight` strings; undirected endpoints ordered by key position. */
function edgeMultiset(g: Graph): string[] {
  const order = new Map(g.nodes().map((k, i) => [k, i]));
  const out: string[] = [];
  g.forEachEdge((_e, attr, s, t, _sa, _ta, undirected) => {
    let [a, b] = [s, t];
    if (undirected && order.get(a)! > order.get(b)!) [a, b] = [b, a];
    out.push(`${undirected ? 'u' : 'd'}|${a}|${b}|${attr['weight'] ?? ''}`);
  });
  return out.sort();
}

function roundTrip(g: Graph): Graph {
  const { graph, keys } = fromGraphology(g);
  return toGraphology(graph, { keys });
}

describe('graphology bridge', () => {
  it('round-trips a weighted undirected graph with string keys exactly', () => {
    const g = new Graph({ type: 'undirected' });
    for (const k of ['x', 'a', 'm', 'b']) g.addNode(k);
    g.addEdge('x', 'a', { weight: 0.5 });
    g.addEdge('m', 'a', { weight: 2 });
    g.addEdge('b', 'x', { weight: -1.25 });
    const back = roundTrip(g);
    expect(back.nodes()).toEqual(g.nodes());
    expect(back.type).toBe('undirected');
    expect(edgeMultiset(back)).toEqual(edgeMultiset(g));
  });

  it('round-trips directed multigraphs with self loops', () => {
    const g = new Graph({ type: 'directed', multi: true, allowSelfLoops: true });
    for (const k of ['p', 'q', 'r']) g.addNode(k);
    g.addEdge('p', 'q');
    g.addEdge('p', 'q');
    g.addEdge('q', 'q');
    g.addEdge('r', 'p');
    const { graph } = fromGraphology(g);
    expect(graph.directed).toBe(true);
    expect(graph.numEdges).toBe(4);
    const back = roundTrip(g);
    expect(back.multi).toBe(true);
    expect(edgeMultiset(back)).toEqual(edgeMultiset(g));
  });

  it('round-trips undirected self loops and multi-edges', () => {
    const g = new Graph({ type: 'undirected', multi: true, allowSelfLoops: true });
    for (const k of ['a', 'b']) g.addNode(k);
    g.addEdge('a', 'a');
    g.addEdge('a', 'b');
    g.addEdge('b', 'a');
    const { graph } = fromGraphology(g);
    expect(Array.from(graph.indices)).toEqual([0, 1, 1, 0, 0]);
    expect(edgeMultiset(roundTrip(g))).toEqual(edgeMultiset(g));
  });

  it('converts graphs from graphology-generators', () => {
    const k5 = complete(UndirectedGraph, 5);
    const { graph } = fromGraphology(k5);
    expect(graph.numNodes).toBe(5);
    expect(graph.directed).toBe(false);
    expect(graph.numEdges).toBe(20);
    let seed = 1;
    const rng = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const c = clusters(Graph, { order: 50, size: 120, clusters: 3, rng });
    expect(edgeMultiset(roundTrip(c))).toEqual(edgeMultiset(c));
  });

  it('stores undirected edges of mixed graphs both ways', () => {
    const g = new Graph({ type: 'mixed' });
    for (const k of ['a', 'b', 'c']) g.addNode(k);
    g.addDirectedEdge('a', 'b');
    g.addUndirectedEdge('b', 'c');
    const { graph } = fromGraphology(g);
    expect(graph.directed).toBe(true);
    expect(Array.from(graph.indices)).toEqual([1, 2, 1]);
  });

  it('reads labels and rejects non-numeric weights', () => {
    const g = new Graph();
    g.addNode('a', { y: 2 });
    g.addNode('b');
    g.addEdge('a', 'b', { weight: 'heavy' });
    expect(() => fromGraphology(g)).toThrow(/graph-core\/graphology: edge .* non-numeric weight/);
    const ok = fromGraphology(g, { weightAttribute: null, labelAttribute: 'y' });
    expect(Array.from(ok.graph.labels!)).toEqual([2, -1]);
    expect(ok.graph.weights).toBeUndefined();
  });

  it('round-trips through graphology JSON', () => {
    const g = new Graph({ type: 'undirected' });
    g.mergeEdge('1', '2', { weight: 3 });
    g.mergeEdge('2', '3', { weight: 4 });
    const { graph, keys } = fromGraphologyJSON(g.export());
    const json = toGraphologyJSON(graph, { keys });
    expect(json.nodes.map((n) => n.key)).toEqual(['1', '2', '3']);
    expect(edgeMultiset(Graph.from(json))).toEqual(edgeMultiset(g));
    expect(() => fromGraphologyJSON({ nodes: 3 } as never)).toThrow(/graph-core\/graphology/);
  });
});
