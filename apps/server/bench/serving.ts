/**
 * Serving benchmark in the manner of vLLM's benchmark_serving: a seeded
 * ShareGPT-like workload with Poisson arrivals at several rates, run through
 * the engine with a real `@plexus/models` tiny Mixtral (seeded weights, or
 * `--model DIR`), reporting throughput and TTFT / TPOT / end-to-end
 * percentiles for FCFS vs skip-join MLFQ, prefix caching on vs off and
 * speculative decoding on vs off, beside the same model decoding one
 * request at a time (no batching) on the same arrivals.
 *
 * Output lengths are fixed per request (EOS ignored, as vLLM's bench does
 * with ignore_eos) so every configuration does the same work.
 *
 * Run: node --import tsx bench/serving.ts [--model DIR] [--requests N] [--quick]
 * Writes bench/results/serving.json and bench/results/serving.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CausalLM, presetConfig } from '@plexus/models';
import { initBackend } from '@plexus/tensor';
import { Engine } from '../src/engine/engine.js';
import { greedySampling } from '../src/engine/sampling-params.js';
import { fcfsPolicy, skipJoinMlfqPolicy } from '../src/engine/scheduler-policy.js';
import { HierarchicalDrafter } from '../src/engine/speculative/hierarchical-drafter.js';
import { CausalLmServingModel } from '../src/model/causal-lm-serving-model.js';
import { loadModelDir } from '../src/model/load-model-dir.js';
import { type BenchRequest, syntheticWorkload } from './workload.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    requests: { type: 'string' },
    quick: { type: 'boolean' },
  },
});
const quick = values.quick ?? false;
const numRequests = Number(values.requests ?? (quick ? 8 : 64));

interface Config {
  readonly name: string;
  readonly maxRunning: number;
  readonly policy: 'fcfs' | 'mlfq';
  readonly prefixCaching: boolean;
  readonly speculative: boolean;
}

const CONFIGS: Config[] = [
  {
    name: 'one-at-a-time',
    maxRunning: 1,
    policy: 'fcfs',
    prefixCaching: false,
    speculative: false,
  },
  {
    name: 'batching fcfs',
    maxRunning: 32,
    policy: 'fcfs',
    prefixCaching: true,
    speculative: false,
  },
  {
    name: 'batching mlfq',
    maxRunning: 32,
    policy: 'mlfq',
    prefixCaching: true,
    speculative: false,
  },
  {
    name: 'batching fcfs, no prefix cache',
    maxRunning: 32,
    policy: 'fcfs',
    prefixCaching: false,
    speculative: false,
  },
  {
    name: 'batching fcfs, speculative',
    maxRunning: 32,
    policy: 'fcfs',
    prefixCaching: true,
    speculative: true,
  },
];

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function runConfig(model: CausalLmServingModel, config: Config, workload: BenchRequest[]) {
  const engine = new Engine({
    model,
    eosTokenIds: [],
    numBlocks: 1024,
    blockSize: 16,
    maxBatchTokens: 256,
    maxRunning: config.maxRunning,
    maxResident: config.maxRunning === 1 ? 1 : 4 * config.maxRunning,
    maxWaiting: 10_000,
    enablePrefixCaching: config.prefixCaching,
    policy: config.policy === 'mlfq' ? skipJoinMlfqPolicy() : fcfsPolicy(),
    ...(config.speculative
      ? { speculation: { drafter: new HierarchicalDrafter(), numDraftTokens: 4 } }
      : {}),
  });
  const start = performance.now();
  const rows = await Promise.all(
    workload.map(async (r) => {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, r.arrivalMs - (performance.now() - start))),
      );
      const params = greedySampling(r.outputTokens);
      const submitted = performance.now();
      const handle = engine.submit({ promptTokens: r.prompt, params });
      let first = 0;
      let last = 0;
      let n = 0;
      for await (const e of handle.events) {
        if (e.type !== 'token') continue;
        last = performance.now();
        if (n === 0) first = last;
        n++;
      }
      return {
        ttft: first - submitted,
        e2e: last - submitted,
        tpot: n > 1 ? (last - first) / (n - 1) : 0,
        tokens: n,
        end: last - start,
      };
    }),
  );
  const makespan = Math.max(...rows.map((r) => r.end)) / 1000;
  const tokens = rows.reduce((a, r) => a + r.tokens, 0);
  const stats = engine.manager.stats();
  const result = {
    config: config.name,
    requests: rows.length,
    outputTokens: tokens,
    seconds: makespan,
    throughputTokensPerSecond: tokens / makespan,
    requestsPerSecond: rows.length / makespan,
    ttftMs: {
      mean: mean(rows.map((r) => r.ttft)),
      p50: pct(
        rows.map((r) => r.ttft),
        50,
      ),
      p99: pct(
        rows.map((r) => r.ttft),
        99,
      ),
    },
    tpotMs: {
      mean: mean(rows.map((r) => r.tpot)),
      p50: pct(
        rows.map((r) => r.tpot),
        50,
      ),
      p99: pct(
        rows.map((r) => r.tpot),
        99,
      ),
    },
    e2eMs: {
      mean: mean(rows.map((r) => r.e2e)),
      p50: pct(
        rows.map((r) => r.e2e),
        50,
      ),
      p99: pct(
        rows.map((r) => r.e2e),
        99,
      ),
    },
    prefixHitRate: stats.prefixQueries > 0 ? stats.prefixHits / stats.prefixQueries : 0,
    draftAcceptance: engine.draftedTokens > 0 ? engine.acceptedTokens / engine.draftedTokens : null,
    preemptions: stats.recomputePreemptions,
  };
  await engine.stop();
  return result;
}

async function main(): Promise<void> {
  const backend = await initBackend();
  let model: CausalLmServingModel;
  let modelNote: string;
  if (values.model) {
    model = loadModelDir(values.model).model;
    modelNote = values.model;
  } else {
    const config = presetConfig('tiny-moe');
    model = new CausalLmServingModel(CausalLM.init(config, { seed: 1 }), 'tiny-moe');
    modelNote = 'tiny-moe preset, seeded weights (speed does not depend on training)';
  }
  const scale = quick ? 0.1 : 0.15;
  const base = {
    numRequests,
    meanPrompt: Math.round(161 * scale),
    meanOutput: Math.round(338 * scale),
    sharedFraction: 0.5,
    systemPromptTokens: 32,
    vocabSize: model.vocabSize,
    seed: 7,
  };
  // Calibrate: the one-at-a-time service rate on a burst sets the arrival rates.
  const probe = syntheticWorkload({
    ...base,
    numRequests: 4,
    rate: Number.POSITIVE_INFINITY,
    seed: 99,
  });
  const probeRun = await runConfig(model, CONFIGS[0]!, probe);
  const capacity = probeRun.requestsPerSecond;
  // What one-at-a-time decoding sustains, four times that, and a single burst (∞).
  const rates = quick
    ? [Number.POSITIVE_INFINITY]
    : [capacity, 4 * capacity, Number.POSITIVE_INFINITY];
  console.log(
    `backend ${backend.backend}; one-at-a-time capacity ≈ ${capacity.toFixed(3)} req/s; rates ${rates.map((r) => r.toFixed(3)).join(', ')}`,
  );
  const runs: ({ rate: number } & Awaited<ReturnType<typeof runConfig>>)[] = [];
  for (const rate of rates) {
    const workload = syntheticWorkload({ ...base, rate });
    for (const config of CONFIGS) {
      const r = await runConfig(model, config, workload);
      runs.push({ rate, ...r });
      console.log(
        `rate ${rate.toFixed(3)} ${config.name.padEnd(32)} ${r.throughputTokensPerSecond.toFixed(1).padStart(7)} tok/s  ttft p50 ${r.ttftMs.p50.toFixed(0)} ms  tpot p50 ${r.tpotMs.p50.toFixed(1)} ms  e2e p50 ${r.e2eMs.p50.toFixed(0)} ms p99 ${r.e2eMs.p99.toFixed(0)} ms`,
      );
    }
  }
  const comparisons = rates.map((rate) => {
    const at = runs.filter((r) => r.rate === rate);
    const baseline = at.find((r) => r.config === 'one-at-a-time')!;
    const fcfs = at.find((r) => r.config === 'batching fcfs')!;
    return {
      rate,
      throughputRatio: fcfs.throughputTokensPerSecond / baseline.throughputTokensPerSecond,
      e2eP50Ratio: fcfs.e2eMs.p50 / baseline.e2eMs.p50,
      meetsTarget:
        fcfs.throughputTokensPerSecond >= 3 * baseline.throughputTokensPerSecond &&
        fcfs.e2eMs.p50 <= baseline.e2eMs.p50,
    };
  });
  const here = dirname(fileURLToPath(import.meta.url));
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(
    join(here, 'results', 'serving.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverage: loadavg() },
        backend: backend.backend,
        model: modelNote,
        workload: {
          ...base,
          note: 'lengths are ShareGPT means (161 / 338) scaled by the factor below; EOS ignored',
          scale,
        },
        capacityOneAtATime: capacity,
        runs,
        comparisons,
      },
      null,
      1,
    )}\n`,
  );
  console.log(JSON.stringify(comparisons));
  model.model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
