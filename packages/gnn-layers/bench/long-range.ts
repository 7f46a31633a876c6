/**
 * Long-range experiment: accuracy against problem depth on RingTransfer
 * (Bodnar et al., 2021) and Tree-NeighborsMatch (Alon & Yahav, 2021) from
 * graph-core's generators, for GCN, GIN, GAT, DRew, TIDE and Co-GNN at about
 * equal parameter budgets. Writes results/long-range.json and
 * results/long-range.svg.
 *
 *   node --import tsx bench/long-range.ts [--quick | --replot]
 *   node --import tsx bench/long-range.ts --only=drew [--depths=ring:6] --merge
 *   COGNN_OPTS='{"actionBias":0}' node --import tsx bench/long-range.ts --only=cognn --ablation=NAME
 *     (a narrowed run stored as ablations.NAME in results/long-range.json; rows untouched)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsrGraph, type LongRangeTask, ringTransfer, treeNeighborsMatch } from '@plexus/graph-core';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { disposeGraphOperators } from '../src/index.js';
import { disposeRingOperators } from '../src/seed/index.js';
import {
  build,
  hiddenFor,
  MODELS,
  type ModelName,
  type Net,
  paramCount,
  trainingFlag,
} from './long-range-models.js';
import { renderSvg } from './long-range-plot.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
// --only=drew,tide and --depths=ring:6,tree:2 narrow a run (nothing is written then).
const argValue = (name: string): string[] | undefined =>
  process.argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')[1]
    ?.split(',');
const onlyModels = argValue('only');
const onlyDepths = argValue('depths');
const partial = quick || onlyModels !== undefined || onlyDepths !== undefined;
// --merge: a narrowed run replaces its rows in the saved results (a re-run after a model fix).
const merge = process.argv.includes('--merge') && !quick;
const ablation = argValue('ablation')?.[0];

const CONFIG = {
  budget: 6000,
  epochs: quick ? 30 : 150,
  learningRate: 0.01,
  seeds: quick ? [0] : [0, 1],
  ring: { depths: quick ? [2, 6] : [2, 4, 6, 8], train: 100, test: 100, classes: 5 },
  tree: { depths: quick ? [2] : [2, 3], train: 400, test: 200 },
};

interface Split {
  graph: CsrGraph;
  x: tf.Tensor2D;
  targets: tf.Tensor1D;
  labels: Int32Array;
  oneHot: tf.Tensor2D;
}

/** One block-diagonal batch; node features optionally re-encoded per node. */
function batchOf(
  task: LongRangeTask,
  encode: (f: Float32Array, dim: number) => { data: Float32Array; dim: number },
): Split {
  const b = CsrGraph.batch(task.graphs);
  const f = b.graph.features as { data: Float32Array; dim: number };
  const enc = encode(f.data, f.dim);
  const targets = Int32Array.from(task.targets, (t, g) => b.nodeOffsets[g]! + t);
  return {
    graph: b.graph,
    x: tf.tensor2d(enc.data, [b.graph.numNodes, enc.dim]),
    targets: tf.tensor1d(targets, 'int32'),
    labels: task.labels,
    oneHot: tf.tidy(() =>
      tf.oneHot(tf.tensor1d(task.labels, 'int32'), task.numClasses),
    ) as tf.Tensor2D,
  };
}

function accuracy(net: Net, s: Split): number {
  return tf.tidy(() => {
    const pred = tf.argMax(tf.gather(net.forward(s.graph, s.x), s.targets), 1).dataSync();
    let hit = 0;
    pred.forEach((p, i) => {
      if (p === s.labels[i]) hit++;
    });
    return hit / s.labels.length;
  });
}

function trainOne(net: Net, train: Split, test: Split): { trainAcc: number; testAcc: number } {
  const opt = tf.train.adam(CONFIG.learningRate);
  for (let e = 0; e < CONFIG.epochs; e++) {
    trainingFlag.on = true;
    const loss = opt.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(
          train.oneHot,
          tf.gather(net.forward(train.graph, train.x), train.targets),
        ) as tf.Scalar,
      false,
      net.variables as tf.Variable[],
    );
    loss?.dispose();
    trainingFlag.on = false;
  }
  opt.dispose();
  return { trainAcc: accuracy(net, train), testAcc: accuracy(net, test) };
}

/** Tree-NeighborsMatch features (key, value) as one-hots, as embeddings would be. */
function oneHotKeys(classes: number) {
  return (data: Float32Array, dim: number) => {
    const n = data.length / dim;
    const width = 2 * (classes + 1);
    const out = new Float32Array(n * width);
    for (let i = 0; i < n; i++) {
      out[i * width + data[i * dim]!] = 1;
      out[i * width + classes + 1 + data[i * dim + 1]!] = 1;
    }
    return { data: out, dim: width };
  };
}

interface Row {
  task: 'ring' | 'tree';
  depth: number;
  model: ModelName;
  layers: number;
  hidden: number;
  params: number;
  chance: number;
  trainAcc: number[];
  testAcc: number[];
  meanTestAcc: number;
  seconds: number;
}

async function main(): Promise<void> {
  if (process.argv.includes('--replot')) {
    // Re-draw the saved results (after a plot change) without training.
    const saved = JSON.parse(readFileSync(join(here, 'results', 'long-range.json'), 'utf8')) as {
      rows: Row[];
    };
    writeFileSync(join(here, 'results', 'long-range.svg'), renderSvg(saved.rows, MODELS));
    printTable(saved.rows);
    return;
  }
  const backend = await initBackend({ backend: 'wasm' });
  void backend;
  const rows: Row[] = [];
  const t0 = performance.now();
  const jobs: { task: 'ring' | 'tree'; depth: number }[] = [
    ...CONFIG.ring.depths.map((depth) => ({ task: 'ring' as const, depth })),
    ...CONFIG.tree.depths.map((depth) => ({ task: 'tree' as const, depth })),
  ];
  for (const { task, depth } of jobs) {
    if (onlyDepths !== undefined && !onlyDepths.includes(`${task}:${depth}`)) continue;
    const make = (count: number, seed: number): LongRangeTask =>
      task === 'ring'
        ? ringTransfer({ ringSize: 2 * depth, count, numClasses: CONFIG.ring.classes, seed })
        : treeNeighborsMatch({ depth, count, seed });
    const sizes = task === 'ring' ? CONFIG.ring : CONFIG.tree;
    const trainTask = make(sizes.train, 1);
    const testTask = make(sizes.test, 2);
    const classes = trainTask.numClasses;
    const encode =
      task === 'ring' ? (data: Float32Array, dim: number) => ({ data, dim }) : oneHotKeys(classes);
    const train = batchOf(trainTask, encode);
    const test = batchOf(testTask, encode);
    const inF = train.x.shape[1];
    for (const model of MODELS) {
      if (onlyModels !== undefined && !onlyModels.includes(model)) continue;
      // Tree-NeighborsMatch needs r + 1 layers (Alon & Yahav): one to embed
      // each leaf's (key, value) pair nonlinearly before it is aggregated.
      const layers = task === 'ring' ? depth : depth + 1;
      const hidden = hiddenFor(model, inF, classes, layers, CONFIG.budget);
      const started = performance.now();
      const trainAcc: number[] = [];
      const testAcc: number[] = [];
      let params = 0;
      for (const seed of CONFIG.seeds) {
        const net = build(model, inF, classes, hidden, layers, seed);
        params = paramCount(net);
        const r = trainOne(net, train, test);
        trainAcc.push(r.trainAcc);
        testAcc.push(r.testAcc);
        net.dispose();
      }
      const row: Row = {
        task,
        depth,
        model,
        layers: model === 'tide' ? 2 : layers,
        hidden,
        params,
        chance: 1 / classes,
        trainAcc,
        testAcc,
        meanTestAcc: testAcc.reduce((s, v) => s + v, 0) / testAcc.length,
        seconds: (performance.now() - started) / 1000,
      };
      rows.push(row);
      process.stderr.write(
        `${task} depth ${depth} ${model.padEnd(5)} hidden ${hidden} params ${params} ` +
          `train ${trainAcc.map((v) => v.toFixed(2)).join('/')} test ${testAcc.map((v) => v.toFixed(2)).join('/')} ` +
          `(${row.seconds.toFixed(1)} s, tensors ${tf.memory().numTensors})\n`,
      );
    }
    tf.dispose([train.x, train.targets, train.oneHot, test.x, test.targets, test.oneHot]);
    for (const g of [train.graph, test.graph]) {
      disposeGraphOperators(g);
      disposeRingOperators(g);
    }
  }
  const result = {
    benchmark: 'long-range: accuracy against problem depth at ~equal parameter budget',
    date: new Date().toISOString(),
    backend: tf.getBackend(),
    totalSeconds: (performance.now() - t0) / 1000,
    config: { ...CONFIG, cognnOverrides: process.env.COGNN_OPTS ?? null },
    notes: [
      'depth = source-target distance (ring: ringSize = 2 depth; tree: tree depth r).',
      'DRew includes the self term W_{l,0} h_i in its update.',
      'GCN, GIN, GAT, DRew (nu = 1) and Co-GNN use L = depth layers on RingTransfer and L = depth + 1 on Tree-NeighborsMatch (as Alon & Yahav); TIDE always uses 2 layers (Chebyshev order max(8, 2L + 4)).',
      'Hidden widths are chosen per model so the parameter count is closest to the budget.',
      'Tree-NeighborsMatch keys and values are one-hot encoded.',
      "Co-GNN as the authors' code (two 1-layer MeanGNN action networks shared by all layers, learned per-node temperature with tau0 = 0.5, skip connections, no layer norm, no dropout) with a SumGNN environment (Co-GNN(sum, mean)) and the action networks' keep logit initialised at +5 (every node starts near STANDARD); actions sampled with straight-through Gumbel-softmax while training, argmax at evaluation.",
      'Full-batch Adam on one block-diagonal batch of the training graphs; accuracy of the target node (node 0) of every graph.',
    ],
    rows,
  };
  const jsonPath = join(here, 'results', 'long-range.json');
  if (merge) {
    const saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as typeof result;
    const key = (r: Row): string => `${r.task}:${r.depth}:${r.model}`;
    const fresh = new Map(rows.map((r) => [key(r), r]));
    const merged = saved.rows.map((r) => fresh.get(key(r)) ?? r);
    const rerun = rows.map((r) => key(r));
    Object.assign(result, {
      rows: merged,
      totalSeconds: saved.totalSeconds,
      rerun: { date: result.date, rows: rerun },
      date: saved.date,
    });
  }
  if (ablation !== undefined) {
    const saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
    const ablations = (saved.ablations ?? {}) as Record<string, unknown>;
    ablations[ablation] = {
      date: result.date,
      cognnOptions: process.env.COGNN_OPTS ?? null,
      rows,
    };
    saved.ablations = ablations;
    writeFileSync(jsonPath, `${JSON.stringify(saved, null, 2)}\n`);
  } else if (!partial || merge) {
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(here, 'results', 'long-range.svg'), renderSvg(result.rows, MODELS));
  }
  printTable(result.rows);
}

function printTable(rows: Row[]): void {
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  for (const task of ['ring', 'tree'] as const) {
    const depths = [...new Set(rows.filter((r) => r.task === task).map((r) => r.depth))];
    if (depths.length === 0) continue;
    const chance = (d: number): string =>
      rows.find((r) => r.task === task && r.depth === d)!.chance.toFixed(2);
    console.log(`\n${task}: mean test accuracy over seeds (train accuracy in parentheses)`);
    console.log(`| model | ${depths.map((d) => `depth ${d} (chance ${chance(d)})`).join(' | ')} |`);
    console.log(`|---|${depths.map(() => '---').join('|')}|`);
    for (const model of MODELS) {
      const cells = depths.map((d) => {
        const r = rows.find((x) => x.task === task && x.depth === d && x.model === model);
        return r === undefined
          ? ''
          : `${r.meanTestAcc.toFixed(2)} (${mean(r.trainAcc).toFixed(2)})`;
      });
      console.log(`| ${model} | ${cells.join(' | ')} |`);
    }
  }
}

await main();
