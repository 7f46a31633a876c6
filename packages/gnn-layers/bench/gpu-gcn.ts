/**
 * GCN on WebGPU, for a GPU machine: the Cora GCN training step (forward,
 * backward, Adam; as `bench/run.ts` times it on cpu and wasm) and one GCN
 * layer 64 -> 64, forward + backward, on a random graph with 1M nodes and 10M
 * edges. The issue compares them with PyG on an H100 (2.76 ms per Cora epoch,
 * 23.8 ms for that layer); the same call also runs `torch_gcn.py` and
 * `torch_gcn_layer.py` on CUDA for a peer measured on the same card.
 *
 * Bundle with `../shared/gpu/prepare.sh packages/gnn-layers/bench/gpu-gcn.ts
 * gpu-gcn`, copy the Cora directory next to it, then on the GPU machine:
 * `bash .device/run.sh gpu-gcn.mjs --cora cora --out-dir "$OUT"`.
 *
 *   --cora DIR         the Cora dataset directory (default: the bundled one)
 *   --out-dir DIR      where to write gpu-gcn-<adapter>.json and the arrays for
 *                      the PyTorch peer (torch-cora/)
 *   --small            a 10k-node, 100k-edge graph instead of 1M / 10M
 *   --allow-software   accept a software adapter (lavapipe; CPU numbers)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundledDatasetDir, loadDatasetFromDir } from '@plexus/graph-core';
import {
  defaultSplitK,
  initBackend,
  matMulTransposeASplitK,
  SeededRandom,
  spmm,
} from '@plexus/tensor';
import { adapterReport } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
// initBackend installs Dawn (the `webgpu` package) as `navigator.gpu` itself
// when there is none, before it loads tfjs' webgpu backend.
import { aggregationMatrix, createGcnConv, disposeInput, featuresToInput } from '../src/index.js';
import {
  datasetWorkload,
  EPOCHS,
  randomGraph,
  timeOurs,
  timeRuns,
  writeForTorch,
} from './gcn-step.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const small = process.argv.includes('--small');
const allowSoftware = process.argv.includes('--allow-software');
const outDir = resolve(argValue('--out-dir') ?? '.');
const coraDir = resolve(argValue('--cora') ?? bundledDatasetDir('cora'));
const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

const choice = await initBackend({ backend: 'webgpu', allowSoftwareAdapter: allowSoftware });
mkdirSync(outDir, { recursive: true });

// --- Cora: the GCN training step --------------------------------------------
const cora = datasetWorkload('cora', loadDatasetFromDir(coraDir));
writeForTorch(cora, join(outDir, 'torch-cora'));
const coraX = featuresToInput(cora.features, cora.graph.numNodes);
const coraMs = await timeOurs(cora, coraX);
disposeInput(coraX);
console.error(`cora GCN step: ${round(coraMs)} ms`);

// --- one GCN layer 64 -> 64, forward + backward, on a large random graph ------
const n = small ? 10_000 : 1_000_000;
const m = small ? 100_000 : 10_000_000;
const rng = new SeededRandom(5);
const graph = randomGraph(n, m, rng, true);
const layer = createGcnConv(64, 64, { seed: 1 });
const x = tf.tensor2d(rng.fillNormal(new Float32Array(n * 64)), [n, 64]);
const ctx = { training: true, nextSeed: () => rng.nextUint32() };
/** Forward and backward (gradients of the weights and the input), waiting for the GPU. */
const layerStep = async (): Promise<void> => {
  const grads = tf.tidy(() => {
    // Sum of the output as the loss, in two steps: tfjs' one-pass reduction
    // of 64M values to a scalar takes 50 ms on webgpu, the column sums 2 ms.
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.sum(layer.apply(graph, x, ctx), 0)) as tf.Scalar,
      layer.variables as tf.Variable[],
    );
    return Object.values(grads);
  });
  // Reading one weight gradient waits for everything queued before it.
  const one = tf.slice(grads[0]!, [0, 0], [1, 1]);
  await one.data();
  tf.dispose([one, ...grads]);
};
const { medianMs: layerMs, runsMs: layerTimes } = await timeRuns(layerStep, EPOCHS, 3);
console.error(`GCN layer 64->64 fwd+bwd, ${n} nodes / ${m} edges: ${round(layerMs)} ms`);

// --- where a layer step's time goes: each piece alone, waiting for the GPU ---
/** Median ms of `f` over 5 runs (after one), reading back one value of its result. */
const pieceMs = async (f: () => tf.Tensor): Promise<number> => {
  const { medianMs } = await timeRuns(
    async () => {
      const out = f();
      const one = tf.slice(tf.reshape(out, [-1]), 0, 1);
      await one.data();
      tf.dispose([out, one]);
    },
    5,
    1,
  );
  return round(medianMs);
};
const aHat = aggregationMatrix(graph, 'gcn');
const aHatT = aHat.transpose().matrix;
const h = tf.tensor2d(rng.fillNormal(new Float32Array(n * 64)), [n, 64]);
const breakdown = {
  forward: await pieceMs(() => tf.tidy(() => tf.sum(tf.sum(layer.apply(graph, x, ctx), 0)))),
  spmm: await pieceMs(() => spmm(aHat, h)),
  spmmTransposed: await pieceMs(() => spmm(aHatT, h)),
  spmmGradient: await pieceMs(() =>
    tf.grad((v: tf.Tensor) => tf.sum(spmm(aHat, v as tf.Tensor2D)))(h),
  ),
  projection: await pieceMs(() => tf.matMul(x, layer.variables[0] as tf.Tensor2D)),
  columnSum: await pieceMs(() => tf.sum(h, 0)),
  sumAll: await pieceMs(() => tf.sum(h)),
};
console.error(`breakdown (ms): ${JSON.stringify(breakdown)}`);
h.dispose();
layer.dispose();

// --- the weight gradient xᵀ·dy alone: tfjs' single product against split-K ----
const dyT = tf.tensor2d(rng.fillNormal(new Float32Array(n * 64)), [n, 64]);
const splits = Math.max(2, defaultSplitK(n));
/** Median ms of `f` over 8 runs, with the values of the last. */
const timeProduct = async (f: () => tf.Tensor): Promise<{ ms: number; values: Float32Array }> => {
  let values: Float32Array<ArrayBufferLike> = new Float32Array(0);
  const { medianMs } = await timeRuns(
    async () => {
      const out = f();
      values = (await out.data()) as Float32Array;
      out.dispose();
    },
    8,
    0,
  );
  return { ms: medianMs, values };
};
const plain = await timeProduct(() => tf.matMul(x, dyT, true, false));
const split = await timeProduct(() => matMulTransposeASplitK(x, dyT, splits));
let maxRelDiff = 0;
for (let i = 0; i < plain.values.length; i++) {
  const scale = Math.max(1, Math.abs(plain.values[i]!));
  maxRelDiff = Math.max(maxRelDiff, Math.abs(plain.values[i]! - split.values[i]!) / scale);
}
console.error(
  `weight gradient [${n}x64]ᵀ[${n}x64]: one product ${round(plain.ms)} ms, ${splits} slabs ${round(split.ms)} ms`,
);
tf.dispose([x, dyT]);

const report = adapterReport(choice);
const result = {
  benchmark: '@plexus/gnn-layers gpu-gcn (webgpu), median of 20 after 3 warm-up steps',
  date: new Date().toISOString(),
  adapter: report.adapter,
  isGpu: report.isGpu,
  label: report.label,
  node: process.version,
  pygOnH100: {
    source: 'shared/gpu/README.md (PyG on an H100, measured for the project)',
    coraGcnEpochMs: 2.76,
    gcnLayer64FwdBwd1MNodes10MEdgesMs: 23.8,
  },
  coraGcnStepMs: round(coraMs),
  gcnLayer: {
    nodes: n,
    edges: m,
    features: 64,
    fwdBwdMs: round(layerMs),
    runsMs: layerTimes.map((t) => round(t)),
  },
  layerBreakdownMs: breakdown,
  weightGradient: {
    what: 'xᵀ·dy for x, dy [nodes, 64] (read back), median of 8',
    oneProductMs: round(plain.ms),
    splitK: splits,
    splitKMs: round(split.ms),
    maxRelativeDifference: maxRelDiff,
  },
};
const path = join(outDir, `gpu-gcn-${report.slug}.json`);
writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path}`);
