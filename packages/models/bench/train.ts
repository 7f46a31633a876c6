// Training throughput: forward + backward + AdamW tokens/s of the tiny and
// tiny-moe presets on the wasm and cpu backends, against the same model in
// PyTorch on the CPU (bench/torch_peer.py, one thread and all cores),
// launched from here in the same run. Run: node --import tsx bench/train.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, CausalLM, configToJson, countParams, presetConfig } from '../src/model/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BATCH = 8;
const SEQ = 64;
const PRESETS = ['tiny', 'tiny-moe'] as const;

/**
 * One measurement: median wall time and median process CPU time (user +
 * system, all threads) per step over `steps` steps after one warm-up step.
 * The build machine is shared, so wall time includes waiting for a core;
 * tokens per CPU-second is the fairer comparison of single-threaded runs.
 */
interface Timing {
  readonly stepMsMedian: number;
  readonly tokensPerSecond: number;
  readonly cpuMsMedian: number;
  readonly tokensPerCpuSecond: number;
  readonly steps: number;
}

/** Linux PSI: share of time some task waited for a CPU (null where unavailable). */
function readPressure(): string | null {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function plexusTiming(
  preset: string,
  backend: 'wasm' | 'cpu',
  steps: number,
): Promise<Timing> {
  await initBackend({ backend });
  const model = CausalLM.init(presetConfig(preset), { seed: 1 });
  const opt = new AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
  const rng = new SeededRandom(1);
  const vocab = model.config.vocab_size;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const ids = Int32Array.from({ length: BATCH * SEQ }, () => rng.int(vocab));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const g = model.valueAndGrads({ ids, batch: BATCH, seq: SEQ });
    opt.step(g.grads);
    tf.dispose([...g.grads.values()]);
    // Reading one value waits for every queued kernel on asynchronous backends.
    model.param('model.norm.weight').dataSync();
    const c = process.cpuUsage(c0);
    if (s > 0) {
      times.push(performance.now() - t0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  opt.dispose();
  model.dispose();
  const ms = median(times);
  const cpuMs = median(cpuTimes);
  return {
    stepMsMedian: ms,
    tokensPerSecond: (BATCH * SEQ) / (ms / 1000),
    cpuMsMedian: cpuMs,
    tokensPerCpuSecond: (BATCH * SEQ) / (cpuMs / 1000),
    steps: times.length,
  };
}

function torchTiming(
  preset: string,
  threads: number,
  steps: number,
): Timing & { torch: string; threads: number } {
  const config = JSON.stringify(configToJson(presetConfig(preset)));
  const out = execFileSync(
    '/usr/bin/python3',
    [
      join(HERE, 'torch_peer.py'),
      config,
      '--batch',
      `${BATCH}`,
      '--seq',
      `${SEQ}`,
      '--steps',
      `${steps}`,
      '--threads',
      `${threads}`,
    ],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as {
    torch: string;
    threads: number;
    step_ms_median: number;
    tokens_per_second: number;
    cpu_ms_median: number;
    tokens_per_cpu_second: number;
    steps: number;
  };
  return {
    stepMsMedian: r.step_ms_median,
    tokensPerSecond: r.tokens_per_second,
    cpuMsMedian: r.cpu_ms_median,
    tokensPerCpuSecond: r.tokens_per_cpu_second,
    steps: r.steps,
    torch: r.torch,
    threads: r.threads,
  };
}

/** Run the benchmark; returns the JSON written to bench/results/train-tokens-per-second.json. */
export async function runTrainBench(options: { steps?: number; cpuSteps?: number } = {}) {
  const steps = options.steps ?? 5;
  const cpuSteps = options.cpuSteps ?? 2;
  const loadBefore = loadavg()[0]!;
  const rows = [];
  for (const preset of PRESETS) {
    const config = presetConfig(preset);
    // Peer first, then ours, then the peer again: the machine is shared, so
    // each ratio uses the mean of the two peer runs around ours.
    const t1a = torchTiming(preset, 1, steps);
    const tNa = torchTiming(preset, cpus().length, steps);
    const wasm = await plexusTiming(preset, 'wasm', steps);
    const cpu = await plexusTiming(preset, 'cpu', cpuSteps);
    const t1b = torchTiming(preset, 1, steps);
    const tNb = torchTiming(preset, cpus().length, steps);
    const torch1 = (t1a.tokensPerSecond + t1b.tokensPerSecond) / 2;
    const torchN = (tNa.tokensPerSecond + tNb.tokensPerSecond) / 2;
    const torch1Cpu = (t1a.tokensPerCpuSecond + t1b.tokensPerCpuSecond) / 2;
    const row = {
      preset,
      params: countParams(config),
      activeExperts: config.num_experts_per_tok,
      experts: config.num_local_experts,
      tokensPerStep: BATCH * SEQ,
      plexus: { wasm, cpu },
      torch: {
        version: t1a.torch,
        oneThread: { runs: [t1a, t1b], tokensPerSecond: torch1, tokensPerCpuSecond: torch1Cpu },
        allThreads: { threads: tNa.threads, runs: [tNa, tNb], tokensPerSecond: torchN },
      },
      // ours / PyTorch: 1 is parity, 1/3 is the "within 3x" bound.
      ratio: {
        wasmVsTorch1Thread: wasm.tokensPerSecond / torch1,
        wasmVsTorchAllThreads: wasm.tokensPerSecond / torchN,
        cpuVsTorch1Thread: cpu.tokensPerSecond / torch1,
        cpuVsTorchAllThreads: cpu.tokensPerSecond / torchN,
        // Per CPU-second (one thread each): robust to waiting for a shared core.
        wasmVsTorch1ThreadCpuTime: wasm.tokensPerCpuSecond / torch1Cpu,
        cpuVsTorch1ThreadCpuTime: cpu.tokensPerCpuSecond / torch1Cpu,
      },
    };
    console.log(
      `${preset}: wasm ${wasm.tokensPerSecond.toFixed(0)} tok/s, cpu ${cpu.tokensPerSecond.toFixed(0)} tok/s, torch 1 thread ${torch1.toFixed(0)}, torch ${tNa.threads} threads ${torchN.toFixed(0)} (wasm/torch1 ${row.ratio.wasmVsTorch1Thread.toFixed(2)}); per CPU-second wasm ${wasm.tokensPerCpuSecond.toFixed(0)} vs torch ${torch1Cpu.toFixed(0)} (${row.ratio.wasmVsTorch1ThreadCpuTime.toFixed(2)})`,
    );
    rows.push(row);
  }
  return {
    benchmark: 'train-tokens-per-second',
    description: `forward + backward + AdamW, batch ${BATCH} x seq ${SEQ}, median step after one warm-up step`,
    date: new Date().toISOString(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    node: process.version,
    loadAverageBefore: loadBefore,
    cpuPressure: readPressure(),
    loadAverageAfter: loadavg()[0]!,
    rows,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runTrainBench();
  const out = join(HERE, 'results', 'train-tokens-per-second.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
