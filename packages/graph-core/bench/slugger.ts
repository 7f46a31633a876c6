/**
 * SLUGGER compression ratios (summary size / edges) on generated graphs,
 * each checked for exact reconstruction. Writes bench/results/slugger.json.
 * Run: node --import tsx bench/slugger.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expandSummary, slugger } from '../src/algorithms/index.js';
import type { CsrGraph } from '../src/csr/csr-graph.js';
import { barabasiAlbert, erdosRenyi } from '../src/generators/random-graphs.js';
import { hierarchicalSbm, stochasticBlockModel } from '../src/generators/sbm.js';

const sameGraph = (a: CsrGraph, b: CsrGraph): boolean =>
  a.numNodes === b.numNodes &&
  a.indptr.every((x, i) => x === b.indptr[i]) &&
  a.indices.every((x, i) => x === b.indices[i]);

const graphs: [string, CsrGraph][] = [
  [
    'HSBM [2,4]x30, p=(0.01,0.05,0.9)',
    hierarchicalSbm({ branching: [2, 4], leafSize: 30, p: [0.01, 0.05, 0.9], seed: 1 }).graph,
  ],
  [
    'SBM 3x40 dense blocks',
    stochasticBlockModel(
      [40, 40, 40],
      [
        [0.95, 0.05, 0],
        [0.05, 0.95, 0.9],
        [0, 0.9, 0.95],
      ],
      { seed: 2 },
    ).graph,
  ],
  ['ER n=500 p=0.02', erdosRenyi(500, 0.02, { seed: 1 })],
  ['BA n=1000 m=3', barabasiAlbert(1000, 3, { seed: 1 })],
];

const rows = graphs.map(([name, g0]) => {
  const g = g0.withLabels(undefined);
  const t0 = performance.now();
  const r = slugger(g, { seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const lossless = sameGraph(expandSummary(r.summary), g);
  if (!lossless) throw new Error(`${name}: reconstruction differs`);
  const row = {
    graph: name,
    nodes: g.numNodes,
    edges: r.numEdges,
    summaryCost: r.cost,
    positive: r.summary.positive.length / 2,
    negative: r.summary.negative.length / 2,
    supernodes: r.summary.parent.length - g.numNodes,
    compressionRatio: r.compressionRatio,
    lossless,
    seconds,
  };
  console.log(JSON.stringify(row));
  return row;
});
const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(
  `${out}slugger.json`,
  `${JSON.stringify({ experiment: 'slugger', results: rows }, null, 1)}\n`,
);
