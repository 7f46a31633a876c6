// `pnpm bench:parallel`: DistriFusion (displaced patch parallelism) and
// ParaStep (reuse-then-predict) over 1, 2 and 4 in-memory ranks on a small
// conv + attention network (and ParaStep on the Gaussian-mixture oracle):
// error against the sequential sampler, wire bytes from the transport's
// counters, and a SIMULATED speed-up: compute times are measured here (one
// full forward; one patch forward) and communication comes from the
// in-memory network's virtual clock under a link model. Ranks share this
// machine's CPU, so no wall-clock parallel speed-up is measured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInMemoryNetwork, createTransportGroup, type LinkModel } from '@plexus/collectives';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  createDdim,
  createEuler,
  createVpModel,
  type Denoiser,
  DiscreteVpSchedule,
  gaussianField,
  gaussianFieldDenoiser,
  gmmVpDenoiser,
  type PatchContextV1,
  paraStepLatencyCalls,
  paraStepSample,
  patchDenoiserAsDenoiser,
  patchParallelSample,
  vpGrid,
} from '../src/index.js';
import { withLocalPatch } from '../src/parallel/patch-layout.js';
import { mixture } from '../test/oracle-fixture.js';
import { relativeError, seededNoise } from '../test/parallel-helpers.js';
import { convAttentionNet } from '../test/parallel-net.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'results');
mkdirSync(out, { recursive: true });
const backend = process.env['PLEXUS_BACKEND'] ?? 'wasm';
await initBackend({ backend: backend as 'wasm' });

const LINKS: Record<string, LinkModel> = {
  // Roughly PCIe 4.0 x16 between accelerators.
  'pcie-10GBps': { bytesPerMs: 1e7, latencyMs: 0.01 },
  // Commodity 1 Gb/s Ethernet between hosts.
  'ethernet-1Gbps': { bytesPerMs: 125_000, latencyMs: 0.05 },
};
const WORLD = [1, 2, 4];
const STEPS = 20;
const SHAPE = [1, 32, 32, 4];
const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const { net, dispose } = convAttentionNet({ channels: 4, features: 32, attention: 16 });
const full = patchDenoiserAsDenoiser(net);
const noise = seededNoise(SHAPE, 2024);

// The build machine's CPU is shared: the fastest of several runs is the
// least disturbed estimate of a forward's cost.
async function fastest(fn: () => Promise<void>, reps = 9): Promise<number> {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Compute-only time of rank 0's patch forward: other patches are zeros. */
async function patchForwardMs(p: number): Promise<number> {
  const h = SHAPE[1]! / p;
  const x = tf.slice(noise, [0, 0, 0, 0], [-1, h, -1, -1]);
  const ctx: PatchContextV1 = {
    specificationVersion: 'v1',
    rank: 0,
    worldSize: p,
    rowStart: 0,
    rowEnd: h,
    rows: SHAPE[1]!,
    synchronous: false,
    exchange: async (_n, local) => {
      const shape = local.shape.slice();
      shape[1] = shape[1]! * p;
      const z = tf.zeros(shape);
      const r = withLocalPatch(z, local, 0);
      z.dispose();
      return r;
    },
  };
  const ms = await fastest(async () => {
    const y = await net(x, 500, undefined, { sigma: 1, step: 0, call: 0 }, ctx);
    await y.data();
    y.dispose();
  });
  x.dispose();
  return ms;
}

async function dataOf(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

function network(p: number, link: LinkModel) {
  const net = createInMemoryNetwork(p, { clock: 'virtual', intraHost: link });
  const groups = net.endpoints.map((e) => createTransportGroup(e, { timeoutMs: 600_000 }));
  const bytes = () => net.stats.bytes.flat().reduce((a, b) => a + b, 0);
  return { net, groups, bytes };
}

const computeFull = await fastest(async () => {
  const y = await full(noise, 500, undefined, { sigma: 1, step: 0, call: 0 });
  await y.data();
  y.dispose();
});
const computePatch: Record<number, number> = {};
for (const p of WORLD) computePatch[p] = p === 1 ? computeFull : await patchForwardMs(p);
console.log(`forward ${computeFull.toFixed(1)} ms; patch forward`, computePatch);

const field = gaussianFieldDenoiser(gaussianField(16, 16));
const fieldNoise = seededNoise([4, 16, 16, 1], 9);
const gmmNoise = seededNoise([1024, 2], 7);
const gmm = gmmVpDenoiser(mixture);

type NetName = 'conv-attention' | 'gaussian-field' | 'gmm-oracle';
interface Row {
  method: 'distrifusion' | 'parastep';
  network: NetName;
  link: string;
  steps: number;
  worldSize: number;
  warmupSteps: number;
  relErrorVsSequential: number;
  wireBytes: number;
  wireBytesPerStep: number;
  commMsVirtual: number;
  sequentialMs: number | null;
  simulatedParallelMs: number | null;
  /** null where nothing was timed (DistriFusion on the oracle: its per-patch cost is not measured). */
  simulatedSpeedup: number | null;
  latencyModelCalls: number;
}
const rows: Row[] = [];
const refs = new Map<string, Float32Array>();

async function reference(
  method: Row['method'],
  name: NetName,
  steps: number,
): Promise<Float32Array> {
  const key = `${method}/${name}/${steps}`;
  const hit = refs.get(key);
  if (hit) return hit;
  const g = vpGrid(schedule, steps, { spacing: 'trailing' });
  const sampler = method === 'distrifusion' ? createDdim() : createEuler();
  const [denoise, x] =
    name === 'conv-attention'
      ? [full, noise]
      : name === 'gaussian-field'
        ? [patchDenoiserAsDenoiser(field), fieldNoise]
        : [gmm, gmmNoise];
  const r = await dataOf(
    await sampler.sample({ denoise: denoise as Denoiser, model, grid: g, noise: x }),
  );
  refs.set(key, r);
  return r;
}

async function runCase(
  method: Row['method'],
  name: NetName,
  p: number,
  warm: number,
  steps: number,
  linkName: string,
): Promise<void> {
  const g = vpGrid(schedule, steps, { spacing: 'trailing' });
  const ref = await reference(method, name, steps);
  const { groups, bytes, net: n } = network(p, LINKS[linkName]!);
  // Only the conv-attention network has a measured cost; the oracles count calls.
  const tFull = name === 'conv-attention' ? computeFull : null;
  let sample: Float32Array;
  let par: number | null;
  let latencyCalls: number;
  if (method === 'distrifusion') {
    const [pnet, x] = name === 'conv-attention' ? [net, noise] : [field, fieldNoise];
    const res = await Promise.all(
      groups.map((group) =>
        patchParallelSample({
          group,
          sampler: createDdim(),
          net: pnet,
          model,
          grid: g,
          noise: x,
          warmupSteps: warm,
        }),
      ),
    );
    sample = await dataOf(res[0]!.sample);
    for (const r of res.slice(1)) r.sample.dispose();
    // Every rank does every step on its patch; async gathers are hidden
    // behind the next patch forward when shorter than it (the paper's
    // premise), warm-up gathers are not.
    const perCall = n.virtualTimeMs() / steps;
    const warmCalls = Math.min(warm, steps);
    latencyCalls = steps;
    const tPatch = name === 'conv-attention' ? computePatch[p]! : null;
    par =
      tPatch === null
        ? null
        : p === 1
          ? steps * tFull!
          : steps * tPatch +
            warmCalls * perCall +
            (steps - warmCalls) * Math.max(0, perCall - tPatch);
  } else {
    const [denoise, x] = name === 'conv-attention' ? [full, noise] : [gmm, gmmNoise];
    const res = await Promise.all(
      groups.map((group) =>
        paraStepSample({
          group,
          denoise: denoise as Denoiser,
          model,
          grid: g,
          noise: x,
          warmupSteps: warm,
        }),
      ),
    );
    sample = await dataOf(res[0]!.sample);
    for (const r of res.slice(1)) r.sample.dispose();
    latencyCalls = paraStepLatencyCalls(steps, p, warm);
    // Warm-up + one model call per round, then the round's sends and
    // broadcast (not overlapped).
    par = tFull === null ? null : latencyCalls * tFull + n.virtualTimeMs();
  }
  const seq = tFull === null ? null : steps * tFull;
  rows.push({
    method,
    network: name,
    link: linkName,
    steps,
    worldSize: p,
    warmupSteps: warm,
    relErrorVsSequential: relativeError(sample, ref),
    wireBytes: bytes(),
    wireBytesPerStep: bytes() / steps,
    commMsVirtual: n.virtualTimeMs(),
    sequentialMs: seq,
    simulatedParallelMs: par,
    simulatedSpeedup:
      seq !== null && par !== null
        ? seq / par
        : method === 'parastep'
          ? steps / latencyCalls
          : null,
    latencyModelCalls: latencyCalls,
  });
}

for (const linkName of Object.keys(LINKS))
  for (const p of WORLD)
    for (const warm of p === 1 ? [1] : [1, 2, 4])
      for (const method of ['distrifusion', 'parastep'] as const)
        await runCase(method, 'conv-attention', p, warm, STEPS, linkName);
// Error only (the link does not change the numbers): more steps, and the oracles.
for (const p of WORLD.slice(1))
  for (const warm of [1, 4]) {
    for (const method of ['distrifusion', 'parastep'] as const)
      await runCase(method, 'conv-attention', p, warm, 50, 'pcie-10GBps');
    for (const steps of [STEPS, 50]) {
      await runCase('distrifusion', 'gaussian-field', p, warm, steps, 'pcie-10GBps');
      await runCase('parastep', 'gmm-oracle', p, warm, steps, 'pcie-10GBps');
    }
  }
fieldNoise.dispose();
gmmNoise.dispose();
dispose();
noise.dispose();

console.log(
  'method        net             link           steps P warm  rel.err    bytes/step  comm(ms)  speed-up',
);
for (const r of rows)
  console.log(
    `${r.method.padEnd(13)} ${r.network.padEnd(15)} ${r.link.padEnd(15)} ${String(r.steps).padStart(3)} ${r.worldSize} ${String(r.warmupSteps).padStart(4)}  ${r.relErrorVsSequential.toExponential(2)}  ${String(Math.round(r.wireBytesPerStep)).padStart(10)}  ${r.commMsVirtual.toFixed(2).padStart(8)}  ${r.simulatedSpeedup === null ? '-' : r.simulatedSpeedup.toFixed(2)}`,
  );

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  backend: tf.getBackend(),
  cpus: cpus().length,
  latent: SHAPE,
  grid: 'trailing',
  samplers: { distrifusion: 'ddim (eta = 0)', parastep: 'euler (= ddim eta 0)' },
  network:
    'conv3x3(4->32)+t-emb, relu, conv3x3(32->32), relu, 1-head attention (16), conv3x3(32->4); seeded random weights',
  forwardMs: computeFull,
  patchForwardMs: computePatch,
  speedup:
    'SIMULATED: sequential = steps x measured forward; DistriFusion = steps x measured patch forward + warm-up exchanges + any async exchange time beyond a patch forward; ParaStep = (warm-up + rounds) x measured forward + all communication; communication = virtual clock of the in-memory network under the link model. Oracle rows (gaussian-field 16x16, 4 samples; gmm-oracle 1024 points) report error and bytes; their speed-up is steps / latency in model calls.',
  links: LINKS,
};
writeFileSync(join(out, 'parallel.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
