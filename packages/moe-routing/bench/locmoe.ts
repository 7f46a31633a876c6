import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInMemoryNetwork, uniformTopology } from '@plexus/collectives';
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { applyCapacity } from '../src/capacity/capacity.js';
import { expertCapacityLowerBound } from '../src/capacity/min-capacity.js';
import { gateAngleDelta } from '../src/capacity/min-capacity-delta.js';
import { dispatchDropless } from '../src/layer/dispatch.js';
import { type ExpertParams, expertForward, initExpertParams } from '../src/layer/experts.js';
import { localityLoss } from '../src/losses/locality-loss.js';
import { loadBalancingLoss } from '../src/losses/losses.js';
import { collectiveExchange } from '../src/parallel/collective-exchange.js';
import { expertParallelForward } from '../src/parallel/expert-parallel.js';
import { contiguousExpertPlacement } from '../src/parallel/placement.js';
import { createLocMoERouter } from '../src/routers/locmoe.js';
import { grapGateWeight } from '../src/routers/locmoe-gate.js';
import { createTopKRouter } from '../src/routers/top-k.js';
import { disposeRouting, type RouterV1, type Routing } from '../src/routers/types.js';

// LocMoE at toy scale ("LocMoE: A Low-overhead MoE for Large Language Model
// Training", Li et al., 2024). 4 ranks on 2 hosts, 8 top-1 experts (2 per
// rank, so 4 per host). Data are domain-sharded as in the paper's setting:
// 8 token clusters, 4 per domain; host h's shards draw 80% of their tokens
// from domain h. Target: a per-cluster linear map (so experts must
// specialise by cluster). Model: learnable projection P, then a residual
// MoE (GELU experts). Three routers, same data stream and initial weights:
// plain top-1 with a learned dense gate + Switch aux loss; LocMoE's GrAP
// gate + aux loss; GrAP (or the dense gate) + aux + locality loss (μ sweep). Measured on held-out
// batches: task MSE, share of local assignments, inter-host all-to-all
// bytes of one expert-parallel forward pass (in-memory transport), and the
// capacity bound with the tokens it drops.

const WORLD = 4;
const RANKS_PER_HOST = 2;
const E = 8;
const D = 32;
const HID = 32;
const TOKENS_PER_RANK = 64;
const T = WORLD * TOKENS_PER_RANK;
const STEPS = Number(process.env.LOCMOE_STEPS ?? 300);
const DOMAIN_SHARE = 0.8;
const placement = contiguousExpertPlacement(E, WORLD);
const expertHosts = Int32Array.from(placement, (r) => Math.floor(r / RANKS_PER_HOST));
const tokenHosts = Int32Array.from({ length: T }, (_, t) =>
  Math.floor(Math.floor(t / TOKENS_PER_RANK) / RANKS_PER_HOST),
);

interface Task {
  readonly centers: Float32Array;
  readonly maps: tf.Tensor3D;
}

function makeTask(rng: SeededRandom): Task {
  return {
    centers: rng.fillNormal(new Float32Array(E * D), 0, 1.5),
    maps: tf.tensor3d(rng.fillNormal(new Float32Array(E * D * D), 0, 1 / Math.sqrt(D)), [E, D, D]),
  };
}

/** A batch of T tokens laid out rank-major; host h's tokens mostly from domain h. */
function batch(task: Task, rng: SeededRandom): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const xs = new Float32Array(T * D);
  const cluster = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const domain = rng.uniform() < DOMAIN_SHARE ? tokenHosts[t]! : 1 - tokenHosts[t]!;
    const c = domain * (E / 2) + rng.int(E / 2);
    cluster[t] = c;
    for (let j = 0; j < D; j++) xs[t * D + j] = task.centers[c * D + j]! + 0.5 * rng.normal();
  }
  return tf.tidy(() => {
    const x = tf.tensor2d(xs, [T, D]);
    const m = tf.gather(task.maps, tf.tensor1d(cluster, 'int32'));
    const y = tf.squeeze(tf.matMul(tf.expandDims(x, 1), m), [1]) as tf.Tensor2D;
    return { x, y };
  });
}

interface Model {
  readonly proj: tf.Variable;
  readonly gate: tf.Tensor2D;
  readonly experts: ExpertParams<tf.Variable>[];
  readonly router: RouterV1;
  readonly trainable: tf.Variable[];
}

function makeModel(kind: 'dense' | 'grap', seed: number): Model {
  const rng = new SeededRandom(seed);
  const proj = tf.variable(
    tf.tensor2d(rng.fillNormal(new Float32Array(D * D), 0, 1 / Math.sqrt(D)), [D, D]),
  );
  const experts = Array.from({ length: E }, (_, e) => {
    const p = initExpertParams(D, HID, 'gelu', new SeededRandom(seed * 100 + e));
    return Object.fromEntries(
      Object.entries(p).map(([k, v]) => [k, tf.variable(v as tf.Tensor)]),
    ) as unknown as ExpertParams<tf.Variable>;
  });
  const gate =
    kind === 'grap'
      ? grapGateWeight(D, E)
      : tf.variable(
          tf.tensor2d(rng.fillNormal(new Float32Array(D * E), 0, 1 / Math.sqrt(D)), [D, E]),
        );
  const router =
    kind === 'grap'
      ? createLocMoERouter({ numExperts: E })
      : createTopKRouter({ numExperts: E, k: 1, renormalize: false });
  const trainable = [
    proj,
    ...experts.flatMap((p) => Object.values(p) as tf.Variable[]),
    ...(gate instanceof tf.Variable ? [gate] : []),
  ];
  return { proj, gate, experts, router, trainable };
}

/** Residual MoE output and the routing (caller disposes). */
function forward(m: Model, x: tf.Tensor2D): { out: tf.Tensor2D; h: tf.Tensor2D; routing: Routing } {
  const h = tf.matMul(x, m.proj) as tf.Tensor2D;
  const routing = m.router.route({ logits: tf.matMul(h, m.gate) as tf.Tensor2D });
  const moe = dispatchDropless(
    h,
    routing,
    (e, rows) => expertForward(m.experts[e]!, 'gelu', rows),
    D,
  );
  return { out: tf.add(h, moe) as tf.Tensor2D, h, routing };
}

function localShare(r: Routing): number {
  let local = 0;
  for (let a = 0; a < r.tokenIndex.length; a++)
    if (expertHosts[r.expertIndex[a]!] === tokenHosts[r.tokenIndex[a]!]) local++;
  return local / r.tokenIndex.length;
}

function train(m: Model, task: Task, mu: number, seed: number): number[] {
  const rng = new SeededRandom(seed);
  const opt = tf.train.adam(0.01);
  const curve: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const { x, y } = batch(task, rng);
    const cost = opt.minimize(
      () => {
        const { out, routing } = forward(m, x);
        const mse = tf.mean(tf.square(tf.sub(out, y)));
        let loss = tf.add(mse, loadBalancingLoss(routing, 0.01));
        if (mu > 0) loss = tf.add(loss, localityLoss(routing, { tokenHosts, expertHosts, mu }));
        return loss as tf.Scalar;
      },
      true,
      m.trainable,
    );
    if (step % 25 === 0 || step === STEPS - 1) curve.push(cost!.dataSync()[0]!);
    tf.dispose([cost!, x, y]);
  }
  opt.dispose();
  return curve;
}

async function interHostBytes(m: Model, h: tf.Tensor2D): Promise<{ inter: number; intra: number }> {
  const net = createInMemoryNetwork(WORLD, { topology: uniformTopology(WORLD, RANKS_PER_HOST) });
  await Promise.all(
    net.endpoints.map(async (p, rank) => {
      const experts = new Map<number, ExpertParams>();
      for (let e = 0; e < E; e++) if (placement[e] === rank) experts.set(e, m.experts[e]!);
      const xr = tf.slice(h, [rank * TOKENS_PER_RANK, 0], [TOKENS_PER_RANK, D]) as tf.Tensor2D;
      const step = await expertParallelForward(
        {
          modelDim: D,
          activation: 'gelu',
          router: m.router,
          rank,
          worldSize: WORLD,
          placement,
          exchange: collectiveExchange(p),
        },
        { routerWeight: m.gate, experts },
        xr,
      );
      tf.dispose([step.output, xr]);
    }),
  );
  return { inter: net.stats.interHostBytes, intra: net.stats.intraHostBytes };
}

/** One row per router configuration (means over seeds in `rows`). */
export interface LocMoERow {
  readonly router: string;
  readonly mu: number;
  readonly finalTrainLoss: number;
  readonly heldOutMse: number;
  readonly localShare: number;
  readonly interHostBytesPerToken: number;
  readonly intraHostBytesPerToken: number;
  readonly expertLoadCv: number;
}

/** Capacity rows: tokens dropped and MSE at capacities from the LocMoE bound up. */
export interface CapacityRow {
  readonly rule: string;
  readonly capacity: number;
  readonly droppedTokenShare: number;
  readonly heldOutMse: number;
}

/** Seeds: each gives a fresh task, data stream and initialisation (shared by all configurations). */
const SEEDS = (process.env.LOCMOE_SEEDS ?? '1,2,3').split(',').map(Number);

const CONFIGS = [
  { router: 'top-1, learned dense gate (Switch-style)', kind: 'dense' as const, mu: 0 },
  { router: 'top-1 dense gate + locality loss', kind: 'dense' as const, mu: 0.1 },
  { router: 'LocMoE GrAP gate, no locality loss', kind: 'grap' as const, mu: 0 },
  { router: 'LocMoE GrAP gate + locality loss', kind: 'grap' as const, mu: 0.1 },
  { router: 'LocMoE GrAP gate + locality loss', kind: 'grap' as const, mu: 0.3 },
];

type Capacity = {
  delta: Record<string, number>;
  bound: Record<string, unknown>;
  rows: CapacityRow[];
};

async function runOne(
  c: (typeof CONFIGS)[number],
  seed: number,
  study: boolean,
): Promise<{ row: Omit<LocMoERow, 'router' | 'mu'>; capacity?: Capacity }> {
  const task = makeTask(new SeededRandom(seed));
  const m = makeModel(c.kind, 1000 + seed);
  const curve = train(m, task, c.mu, 2000 + seed);
  const evalRng = new SeededRandom(3000 + seed);
  let mse = 0;
  let share = 0;
  let inter = 0;
  let intra = 0;
  let capacity: Capacity | undefined;
  const load = new Float64Array(E);
  const EVAL = 4;
  for (let i = 0; i < EVAL; i++) {
    const { x, y } = batch(task, evalRng);
    const { out, h, routing } = forward(m, x);
    mse += tf.tidy(() => tf.mean(tf.square(tf.sub(out, y))).dataSync()[0]!) / EVAL;
    share += localShare(routing) / EVAL;
    for (const e of routing.expertIndex) load[e]! += 1;
    const bytes = await interHostBytes(m, h);
    inter += bytes.inter / (EVAL * T);
    intra += bytes.intra / (EVAL * T);
    if (i === 0 && study) capacity = capacityStudy(m, h, y, routing);
    disposeRouting(routing);
    tf.dispose([x, y, out, h]);
  }
  tf.dispose([...m.trainable, m.gate]);
  const mean = load.reduce((s, v) => s + v, 0) / E;
  const cv = Math.sqrt(load.reduce((s, v) => s + (v - mean) ** 2, 0) / E) / mean;
  const row = {
    finalTrainLoss: curve[curve.length - 1]!,
    heldOutMse: mse,
    localShare: share,
    interHostBytesPerToken: inter,
    intraHostBytesPerToken: intra,
    expertLoadCv: cv,
  };
  console.log(c.router, c.mu, seed, row, 'train loss', curve.map((v) => v.toFixed(3)).join(' '));
  return capacity ? { row, capacity } : { row };
}

export async function locmoeBench(): Promise<{
  seeds: number[];
  rows: LocMoERow[];
  perSeed: (LocMoERow & { seed: number })[];
  capacity: Capacity;
}> {
  await initBackend({ backend: 'cpu' });
  const rows: LocMoERow[] = [];
  const perSeed: (LocMoERow & { seed: number })[] = [];
  let capacity: Capacity | undefined;
  for (const c of CONFIGS) {
    const runs: Omit<LocMoERow, 'router' | 'mu'>[] = [];
    for (const seed of SEEDS) {
      const study = c.kind === 'grap' && c.mu === 0.1 && seed === SEEDS[0];
      const r = await runOne(c, seed, study);
      if (r.capacity) capacity = r.capacity;
      runs.push(r.row);
      perSeed.push({ router: c.router, mu: c.mu, seed, ...r.row });
    }
    const avg = (k: keyof Omit<LocMoERow, 'router' | 'mu'>) =>
      runs.reduce((s, r) => s + r[k], 0) / runs.length;
    rows.push({
      router: c.router,
      mu: c.mu,
      finalTrainLoss: avg('finalTrainLoss'),
      heldOutMse: avg('heldOutMse'),
      localShare: avg('localShare'),
      interHostBytesPerToken: avg('interHostBytesPerToken'),
      intraHostBytesPerToken: avg('intraHostBytesPerToken'),
      expertLoadCv: avg('expertLoadCv'),
    });
  }
  return { seeds: SEEDS, rows, perSeed, capacity: capacity! };
}

function capacityStudy(m: Model, h: tf.Tensor2D, y: tf.Tensor2D, routing: Routing) {
  const delta = {
    min: gateAngleDelta(h, m.gate, routing),
    median: gateAngleDelta(h, m.gate, routing, 0.5),
  };
  const atMin = expertCapacityLowerBound({ delta: delta.min, modelDim: D, numExperts: E });
  const atMedian = expertCapacityLowerBound({ delta: delta.median, modelDim: D, numExperts: E });
  const rules: [string, number][] = [
    ['LocMoE bound, δ = min routed cosine (paper)', atMin.capacity],
    ['LocMoE bound, δ = median routed cosine', atMedian.capacity],
    ['capacity factor 0.5', Math.ceil((0.5 * T) / E)],
    ['capacity factor 1.0', Math.ceil(T / E)],
    ['capacity factor 1.25', Math.ceil((1.25 * T) / E)],
    ['capacity factor 2.0', Math.ceil((2 * T) / E)],
  ];
  const rows = rules.map(([rule, cap]) => {
    const capped = applyCapacity(routing, { capacityFactor: 1, capacity: cap });
    const mse = tf.tidy(() => {
      const moe = dispatchDropless(
        h,
        capped.routing,
        (e, rows) => expertForward(m.experts[e]!, 'gelu', rows),
        D,
      );
      return tf.mean(tf.square(tf.sub(tf.add(h, moe), y))).dataSync()[0]!;
    });
    if (capped.routing !== routing) disposeRouting(capped.routing);
    return { rule, capacity: cap, droppedTokenShare: capped.droppedTokens / T, heldOutMse: mse };
  });
  return { delta, bound: { atMin, atMedian }, rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await locmoeBench();
  console.table(result.rows);
  console.table(result.capacity.rows);
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'locmoe.json'),
    `${JSON.stringify(
      {
        benchmark: '@plexus/moe-routing LocMoE',
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          node: process.version,
        },
        config: `4 ranks on 2 hosts (in-memory transport, uniformTopology(4, 2)), ${E} top-1 GELU experts (2 per rank), D=${D}, hidden ${HID}, ${TOKENS_PER_RANK} tokens per rank; 8 clusters, 4 per domain, host h draws ${DOMAIN_SHARE * 100}% of its tokens from domain h; target a per-cluster linear map; residual MoE after a learned projection; Adam 0.01, ${STEPS} steps, Switch aux loss 0.01 for all; rows are means over seeds ${SEEDS.join(', ')} (perSeed has each run; a seed fixes the task, data stream and initialisation); capacity study on the first seed of GrAP + locality loss mu=0.1; held-out: 4 batches of ${T} tokens; bytes per token of one expert-parallel forward (dispatch + combine, flat all-to-all)`,
        ...result,
      },
      null,
      1,
    )}\n`,
  );
}
