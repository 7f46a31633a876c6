/**
 * K-core attack experiment: attack-set fractions of adaptive high-degree,
 * CoreHD (plain and with reinsertion) and hCTGA on random 4-regular graphs
 * (K = 3), Erdős–Rényi graphs (K = 3) and random 3-regular graphs (K = 2,
 * where every method sits near the (n + 2)/4 bound). Writes
 * bench/results/kcore-attack.json. Run: node --import tsx bench/kcore-attack.ts [n] [seeds]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  adaptiveHighDegreeAttack,
  coreHdAttack,
  hctgaAttack,
  isKCoreAttackSet,
} from '../src/algorithms/index.js';
import type { CsrGraph } from '../src/csr/csr-graph.js';
import { erdosRenyi, randomRegular } from '../src/generators/random-graphs.js';

const n = Number(process.argv[2] ?? 10000);
const numSeeds = Number(process.argv[3] ?? 3);

interface Ensemble {
  name: string;
  k: number;
  make: (seed: number) => CsrGraph;
}
const ensembles: Ensemble[] = [
  { name: 'RR d=4', k: 3, make: (s) => randomRegular(n, 4, { seed: s }) },
  { name: 'ER c=5', k: 3, make: (s) => erdosRenyi(n, 5 / (n - 1), { seed: s }) },
  { name: 'ER c=7', k: 3, make: (s) => erdosRenyi(n, 7 / (n - 1), { seed: s }) },
  { name: 'RR d=3', k: 2, make: (s) => randomRegular(n, 3, { seed: s }) },
];

const methods = {
  adaptiveHighDegree: (g: CsrGraph, k: number, seed: number) =>
    adaptiveHighDegreeAttack(g, k, { seed }),
  coreHd: (g: CsrGraph, k: number, seed: number) => coreHdAttack(g, k, { seed }),
  coreHdRefined: (g: CsrGraph, k: number, seed: number) =>
    coreHdAttack(g, k, { seed, refine: true }),
  hctga: (g: CsrGraph, k: number, seed: number) => hctgaAttack(g, k, { seed }),
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

const rows = [];
for (const ens of ensembles) {
  const fractions: Record<string, number[]> = Object.fromEntries(
    Object.keys(methods).map((m) => [m, [] as number[]]),
  );
  const seconds: Record<string, number[]> = Object.fromEntries(
    Object.keys(methods).map((m) => [m, [] as number[]]),
  );
  for (let seed = 1; seed <= numSeeds; seed++) {
    const g = ens.make(seed);
    for (const [name, run] of Object.entries(methods)) {
      const t0 = performance.now();
      const res = run(g, ens.k, seed);
      const dt = (performance.now() - t0) / 1000;
      if (!isKCoreAttackSet(g, ens.k, res.attackSet)) throw new Error(`${name} left a K-core`);
      fractions[name]!.push(res.fraction);
      seconds[name]!.push(dt);
    }
  }
  const summary = Object.fromEntries(
    Object.entries(fractions).map(([m, xs]) => [
      m,
      { mean: mean(xs), std: std(xs), fractions: xs, meanSeconds: mean(seconds[m]!) },
    ]),
  );
  rows.push({ ensemble: ens.name, k: ens.k, n, seeds: numSeeds, methods: summary });
  console.log(
    ens.name,
    `K=${ens.k}`,
    Object.entries(summary)
      .map(([m, s]) => `${m}=${s.mean.toFixed(4)}±${s.std.toFixed(4)}`)
      .join(' '),
  );
}

const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(
  `${out}kcore-attack.json`,
  `${JSON.stringify({ experiment: 'kcore-attack', n, seeds: numSeeds, node: process.version, results: rows }, null, 1)}\n`,
);
