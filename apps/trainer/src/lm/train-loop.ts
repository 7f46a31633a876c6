import { createDiLoCo, type DiLoCoWorker, type ProcessGroup } from '@plexus/collectives';
import type { AdamW, CausalLM } from '@plexus/models';
import { ProgressBar } from '../report/progress-bar.js';
import type { AsyncCheckpointer } from './checkpoint/async-checkpointer.js';
import type { RunIdentity } from './checkpoint/format.js';
import type { WindowLoader } from './data-loader.js';
import type { LmStepMetric, MetricsLog } from './metrics.js';
import type { ParamLayout } from './param-layout.js';
import { type LrSchedule, learningRateAt } from './schedule.js';
import { trainStep } from './train-step.js';
import { type OuterState, snapshotTrainingState } from './training-state.js';

/** Everything the step loop works on. */
export interface TrainLoopInput {
  readonly model: CausalLM;
  readonly optimizer: AdamW;
  readonly loader: WindowLoader;
  readonly layout: ParamLayout;
  readonly schedule: LrSchedule;
  readonly clip: number;
  readonly startStep: number;
  readonly identity: RunIdentity;
  /** The process group (absent for one worker without DiLoCo). */
  readonly group: ProcessGroup | undefined;
  /** DiLoCo inner steps, or undefined for a gradient all-reduce every step. */
  readonly diloco: number | undefined;
  readonly outer: OuterState | undefined;
  readonly checkpointEvery: number;
  /** Present on the workers that write checkpoints. */
  readonly checkpointer: AsyncCheckpointer | undefined;
  /** Present on rank 0. */
  readonly metrics: MetricsLog | undefined;
  readonly showProgress: boolean;
  /** Called after each step; returning true stops the run there (tests, `--max-steps`-like stops). */
  readonly onStep?: (step: number, m: LmStepMetric) => boolean | undefined;
  /**
   * Aborted by SIGINT/SIGTERM: the workers agree to stop after the current
   * step (DiLoCo: after the current round), checkpoint it and return.
   */
  readonly stop?: AbortSignal;
}

/** What the loop did. */
export interface TrainLoopResult {
  readonly lastStep: number;
  readonly stoppedEarly: boolean;
  readonly losses: number[];
  readonly meanTokensPerSecond: number;
  readonly meanCommMs: number;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m}m${Math.round(seconds % 60)}s` : `${seconds.toFixed(0)}s`;
}

/**
 * Steps `startStep..schedule.steps-1`. After every step: a metrics line,
 * the progress bar (loss, tokens/s, ETA), and every `checkpointEvery`
 * steps (and after the last) a snapshot handed to the background
 * checkpointer. With DiLoCo ("DiLoCo: Distributed Low-Communication
 * Training of Language Models", Douillard et al., 2023) the gradients stay
 * local and `@plexus/collectives`' outer Nesterov step averages the
 * pseudo-gradients every `diloco` steps.
 */
export async function trainLoop(input: TrainLoopInput): Promise<TrainLoopResult> {
  const { model, optimizer, loader, layout, schedule, group } = input;
  const workers = group?.worldSize ?? 1;
  let dl: DiLoCoWorker | undefined;
  let dlParams: Float32Array | undefined;
  if (input.diloco !== undefined) {
    if (!group) throw new Error('DiLoCo needs a process group');
    dlParams = layout.read(model.params);
    dl = createDiLoCo(group.transport, dlParams, {
      innerSteps: input.diloco,
      average: (buf) => group.allReduce(buf as Float32Array, 'avg'),
    });
    if (input.outer) {
      dl.global.set(input.outer.anchor);
      dl.velocity.set(input.outer.momentum);
    }
  }
  const outerState = (): OuterState | undefined =>
    dl ? { anchor: dl.global as Float32Array, momentum: dl.velocity as Float32Array } : undefined;
  const total = schedule.steps;
  const bar = input.showProgress ? new ProgressBar('lm', total, 10) : undefined;
  const losses: number[] = [];
  let tokensPerSecond = 0;
  let commMs = 0;
  let done = 0;
  let lastLoss: number | null = null;
  const started = performance.now();
  let step = input.startStep;
  let stoppedEarly = false;
  for (; step < total; step++) {
    const t0 = performance.now();
    const batch = loader.next();
    const lr = learningRateAt(step, schedule);
    const localStop = input.stop?.aborted === true;
    const r = await trainStep(model, optimizer, layout, batch, {
      lr,
      clip: input.clip,
      group,
      syncGradients: dl === undefined,
      stopVote: localStop,
    });
    let stepComm = r.commMs;
    let stop = r.stop;
    const roundEnd =
      input.diloco === undefined || (step + 1 - input.startStep) % input.diloco === 0;
    if (dl && dlParams) {
      stop = false;
      // Only the steps that end a round need the parameters on the host.
      if (roundEnd && group) {
        layout.read(model.params, dlParams);
        const tc = performance.now();
        if (await dl.afterInnerStep()) layout.write(model.params, dlParams);
        const vote = await group.allReduce(new Float64Array([localStop ? 1 : 0]), 'max');
        stop = vote[0]! > 0;
        stepComm += performance.now() - tc;
      } else await dl.afterInnerStep();
    }
    const stepMs = performance.now() - t0;
    const m: LmStepMetric = {
      step: step + 1,
      loss: r.loss,
      cross_entropy: r.crossEntropy,
      aux_loss: r.auxLoss,
      lr,
      grad_norm: r.gradNorm,
      tokens_per_s: (workers * batch.batch * batch.seq * 1000) / stepMs,
      step_ms: stepMs,
      comm_ms: stepComm,
      ...(r.expertLoad ? { expert_load: r.expertLoad } : {}),
    };
    losses.push(r.loss);
    lastLoss = r.loss;
    tokensPerSecond += m.tokens_per_s;
    commMs += stepComm;
    done++;
    input.metrics?.append(m);
    const perStep = (performance.now() - started) / 1000 / done;
    bar?.update(
      step + 1,
      `loss ${r.loss.toFixed(3)} ${m.tokens_per_s.toFixed(0)} tok/s ETA ${eta(perStep * (total - step - 1))}`,
    );
    // DiLoCo checkpoints only where a round ends: the replicas then equal the shared parameters.
    const boundary =
      roundEnd &&
      ((input.checkpointEvery > 0 &&
        ((step + 1) % input.checkpointEvery === 0 || step + 1 === total)) ||
        stop);
    if (boundary && input.checkpointer)
      await input.checkpointer.save(
        snapshotTrainingState(
          step + 1,
          model,
          optimizer,
          loader,
          input.identity,
          lastLoss,
          outerState(),
        ),
      );
    // Let the background checkpoint's continuations run between steps.
    await new Promise((resolve) => setImmediate(resolve));
    if (input.onStep?.(step + 1, m) === true || stop) {
      stoppedEarly = step + 1 < total;
      step++;
      break;
    }
  }
  bar?.finish();
  return {
    lastStep: step,
    stoppedEarly,
    losses,
    meanTokensPerSecond: done > 0 ? tokensPerSecond / done : 0,
    meanCommMs: done > 0 ? commMs / done : 0,
  };
}
