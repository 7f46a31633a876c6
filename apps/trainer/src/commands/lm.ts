import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initProcessGroup, type ProcessGroup } from '@plexus/collectives';
import { AdamW, CausalLM, configToJson, countParams } from '@plexus/models';
import { initBackend } from '@plexus/tensor';
import { AsyncCheckpointer } from '../lm/checkpoint/async-checkpointer.js';
import { checkpointDirName, type RunIdentity } from '../lm/checkpoint/format.js';
import {
  type LoadedCheckpoint,
  loadNewestValidCheckpoint,
  readCheckpoint,
} from '../lm/checkpoint/load.js';
import { loadCorpusText, prepareCorpus, prepareTokenizer } from '../lm/corpus.js';
import { WindowLoader } from '../lm/data-loader.js';
import { exportHfModel } from '../lm/export-model.js';
import { freePort, launchWorkers, type SelfCommand } from '../lm/launch-workers.js';
import { type LmStepMetric, lossCurveSvg, MetricsLog, readMetrics } from '../lm/metrics.js';
import { configVocabSize, resolveModelConfig } from '../lm/model-config.js';
import { ParamLayout } from '../lm/param-layout.js';
import { trainLoop } from '../lm/train-loop.js';
import { identityMismatch, type OuterState, restoreTrainingState } from '../lm/training-state.js';
import { UsageError } from '../usage-error.js';
import { type LmOptions, parseLmOptions } from './lm-options.js';

/** Summary of a `plexus-train lm` run, also written to `<out>/summary.json`. */
export interface LmSummary {
  readonly config: string;
  readonly modelType: string;
  readonly params: number;
  readonly backend: string;
  readonly device: string;
  /** Always false: the CPU and WASM backends have no float16/bfloat16 kernels. */
  readonly mixedPrecision: false;
  readonly workers: number;
  readonly diloco: number | null;
  readonly steps: number;
  /** Steps completed when the run ended. */
  readonly lastStep: number;
  /** The checkpoint step the run resumed from, if any. */
  readonly resumedFrom: number | null;
  readonly finished: boolean;
  readonly finalLoss: number | null;
  readonly meanTokensPerSecond: number;
  readonly meanCommMs: number;
  /** The Hugging Face model directory (finished runs). */
  readonly modelDir: string | null;
}

/** Hooks for tests and embedding. */
export interface LmIo {
  readonly log?: (line: string) => void;
  /** After each step (rank 0 and the others alike); return true to stop there. */
  readonly onStep?: (step: number, m: LmStepMetric) => boolean | undefined;
  /** How `--workers N` starts this CLI again (default: this process's script and flags). */
  readonly self?: SelfCommand;
  readonly env?: Record<string, string | undefined>;
  readonly showProgress?: boolean;
  /** Stop after the current step, checkpoint it and return (the CLI aborts it on SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
}

/**
 * `plexus-train lm`: train a Llama/Mixtral-style model. With `--workers N`
 * (and no RANK in the environment) this process prepares the tokenizer and
 * starts N workers; each worker (or the single process) trains.
 */
export async function runLm(argv: string[], io: LmIo = {}): Promise<LmSummary> {
  const opts = parseLmOptions(argv);
  const env = io.env ?? process.env;
  const log = io.log ?? console.log;
  const launched = env.WORLD_SIZE !== undefined && env.RANK !== undefined;
  if (opts.diloco !== undefined && opts.checkpointEvery % opts.diloco !== 0)
    throw new UsageError(
      `--checkpoint-every ${opts.checkpointEvery} must be a multiple of --diloco ${opts.diloco} (checkpoints are taken where DiLoCo rounds end)`,
    );
  if (!launched && opts.workers > 1) {
    mkdirSync(opts.out, { recursive: true });
    const text = loadCorpusText(opts.data);
    prepareTokenizer(text, opts.out, {
      tokenizer: opts.tokenizer,
      vocabSize: configVocabSize(opts.config),
    });
    log(`starting ${opts.workers} workers`);
    await launchWorkers(
      io.self ?? { script: process.argv[1]!, execArgv: process.execArgv },
      argv,
      opts.workers,
    );
    return JSON.parse(readFileSync(join(opts.out, 'summary.json'), 'utf8')) as LmSummary;
  }
  const world = launched ? Number(env.WORLD_SIZE) : 1;
  if (launched && opts.workers !== 1 && opts.workers !== world)
    throw new UsageError(`--workers ${opts.workers} disagrees with WORLD_SIZE=${world}`);
  let group: ProcessGroup | undefined;
  if (world > 1) group = await initProcessGroup({ env, timeoutMs: 120_000 });
  else if (opts.diloco !== undefined)
    group = await initProcessGroup({
      rank: 0,
      worldSize: 1,
      masterAddr: '127.0.0.1',
      masterPort: await freePort(),
      env: {},
    });
  try {
    return await trainWorker(opts, world, group, io, log);
  } finally {
    await group?.destroy();
  }
}

async function trainWorker(
  opts: LmOptions,
  world: number,
  group: ProcessGroup | undefined,
  io: LmIo,
  log0: (line: string) => void,
): Promise<LmSummary> {
  const rank = group?.rank ?? 0;
  const log = rank === 0 ? log0 : () => {};
  mkdirSync(opts.out, { recursive: true });
  const prepare = () =>
    prepareCorpus(opts.data, opts.out, {
      tokenizer: opts.tokenizer,
      vocabSize: configVocabSize(opts.config),
    });
  // Under plexus-run no launcher made the tokenizer: rank 0 trains it, the others then load it.
  const first = rank === 0 ? prepare() : undefined;
  if (group && group.worldSize > 1) await group.barrier();
  const corpus = first ?? prepare();
  const choice = await initBackend({ backend: opts.backend });
  const config = resolveModelConfig(opts.config, corpus.tokenizer);
  log(
    `backend: ${choice.backend} (${choice.device}), float32 (no mixed precision on this backend); ${corpus.tokens.length} tokens, vocabulary ${config.vocab_size}; ${config.model_type} ${countParams(config)} parameters; ${world} worker(s)${opts.diloco ? `, DiLoCo every ${opts.diloco} steps` : ''}`,
  );
  const model = CausalLM.init(config, { seed: opts.seed });
  const optimizer = new AdamW(model.params, {
    lr: opts.lr,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: opts.weightDecay,
  });
  const loader = new WindowLoader(corpus.tokens, opts.seq, opts.batch, world, rank, opts.seed);
  const identity: RunIdentity = {
    seed: opts.seed,
    batch: opts.batch,
    seq: opts.seq,
    workers: world,
    diloco: opts.diloco ?? null,
  };
  // DiLoCo replicas keep their own inner optimizer state, so each writes its own checkpoints.
  const ckptDir =
    opts.diloco !== undefined
      ? join(opts.out, 'checkpoints', `rank-${rank}`)
      : join(opts.out, 'checkpoints');
  const writesCheckpoints = opts.checkpointEvery > 0 && (rank === 0 || opts.diloco !== undefined);
  try {
    let startStep = 0;
    let outer: OuterState | undefined;
    if (opts.resume) {
      const ckpt = await agreeOnCheckpoint(ckptDir, group, log);
      if (ckpt) {
        const why = identityMismatch(
          ckpt.trainer.identity,
          identity,
          ckpt.trainer.config,
          configToJson(config),
        );
        if (why) throw new UsageError(`cannot resume from ${ckpt.dir}: ${why}`);
        outer = restoreTrainingState(ckpt, model, optimizer, loader);
        startStep = ckpt.trainer.step;
        log(`resumed from ${ckpt.dir} at step ${startStep}`);
      } else log(`--resume: no usable checkpoint in ${ckptDir}; starting from step 0`);
    }
    if (startStep >= opts.steps)
      throw new UsageError(`the checkpoint is at step ${startStep}; ask for --steps above it`);
    const checkpointer = writesCheckpoints
      ? new AsyncCheckpointer(ckptDir, {
          keep: 2,
          onCommitted: (c) =>
            log(
              `checkpoint step ${c.step} committed (${(c.bytes / 1e6).toFixed(1)} MB in ${c.writeMs.toFixed(0)} ms, written in the background) -> ${c.dir}`,
            ),
        })
      : undefined;
    const metricsPath = join(opts.out, 'metrics.jsonl');
    const result = await trainLoop({
      model,
      optimizer,
      loader,
      layout: new ParamLayout(model.params),
      schedule: { lr: opts.lr, warmup: opts.warmup, steps: opts.steps },
      clip: opts.clip,
      startStep,
      identity,
      group,
      diloco: opts.diloco,
      outer,
      checkpointEvery: opts.checkpointEvery,
      checkpointer,
      metrics:
        rank === 0 ? new MetricsLog(metricsPath, opts.resume ? startStep : undefined) : undefined,
      showProgress: rank === 0 && io.showProgress !== false,
      ...(io.onStep ? { onStep: io.onStep } : {}),
      ...(io.signal ? { stop: io.signal } : {}),
    });
    await checkpointer?.flush();
    const finished = !result.stoppedEarly;
    const modelDir = join(opts.out, 'model');
    if (finished && rank === 0) exportHfModel(model, corpus.tokenizerDir, modelDir);
    const summary: LmSummary = {
      config: opts.config,
      modelType: config.model_type,
      params: countParams(config),
      backend: choice.backend,
      device: choice.device,
      mixedPrecision: false,
      workers: world,
      diloco: opts.diloco ?? null,
      steps: opts.steps,
      lastStep: result.lastStep,
      resumedFrom: opts.resume && startStep > 0 ? startStep : null,
      finished,
      finalLoss: result.losses.at(-1) ?? null,
      meanTokensPerSecond: result.meanTokensPerSecond,
      meanCommMs: result.meanCommMs,
      modelDir: finished ? modelDir : null,
    };
    if (rank === 0) {
      writeFileSync(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      writeFileSync(
        join(opts.out, 'loss.svg'),
        lossCurveSvg(readMetrics(metricsPath), `${opts.config} on ${opts.data}: training loss`),
      );
      log(
        `step ${result.lastStep}/${opts.steps}: loss ${summary.finalLoss?.toFixed(4)}, ${summary.meanTokensPerSecond.toFixed(0)} tokens/s${world > 1 ? `, ${summary.meanCommMs.toFixed(1)} ms/step communicating` : ''}`,
      );
      log(
        `wrote ${metricsPath}, ${join(opts.out, 'loss.svg')}${finished ? `, ${modelDir} (Hugging Face layout)` : ''}`,
      );
    }
    return summary;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * The checkpoint every worker resumes from. Data-parallel workers read the
 * same directory; DiLoCo workers their own, and all take the newest step
 * that every one of them has (a kill can leave one worker a step ahead).
 */
async function agreeOnCheckpoint(
  dir: string,
  group: ProcessGroup | undefined,
  log: (line: string) => void,
): Promise<LoadedCheckpoint | undefined> {
  let ckpt = loadNewestValidCheckpoint(dir, log);
  if (!group || group.worldSize === 1) return ckpt;
  const step = new Float64Array([ckpt ? ckpt.trainer.step : -1]);
  const min = (await group.allReduce(step.slice(), 'min'))[0]!;
  const max = (await group.allReduce(step.slice(), 'max'))[0]!;
  if (min === max) return ckpt;
  if (min < 0)
    throw new Error(`workers disagree on resuming: one has no checkpoint, another has step ${max}`);
  if (ckpt && ckpt.trainer.step !== min) ckpt = readCheckpoint(join(dir, checkpointDirName(min)));
  return ckpt;
}
