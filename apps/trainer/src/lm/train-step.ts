import type { CollectiveGroupV1 } from '@plexus/collectives';
import type { AdamW, CausalLM, ExpertLoad } from '@plexus/models';
import type { LmBatch } from './data-loader.js';
import { clipByGlobalNorm } from './grad-clip.js';
import type { ExpertLoadMetric } from './metrics.js';
import type { ParamLayout } from './param-layout.js';

/** What one optimizer step measured. */
export interface StepResult {
  readonly loss: number;
  readonly crossEntropy: number;
  readonly auxLoss: number;
  readonly gradNorm: number;
  readonly commMs: number;
  readonly expertLoad: ExpertLoadMetric[] | undefined;
  /** Whether any worker asked to stop after this step (agreed in the same all-reduce). */
  readonly stop: boolean;
}

/** Loss, cross-entropy, aux loss, stop vote; then per MoE layer the expert loads and the entropy. */
const HEAD = 4;

/** Pack the loss values and expert loads of one worker into one buffer for a single all-reduce. */
function packStats(
  loss: number,
  ce: number,
  aux: number,
  stop: boolean,
  load: readonly ExpertLoad[],
): Float64Array {
  const experts = load[0]?.load.length ?? 0;
  const out = new Float64Array(HEAD + load.length * (experts + 1));
  out.set([loss, ce, aux, stop ? 1 : 0]);
  load.forEach((l, i) => {
    out.set(l.load, HEAD + i * (experts + 1));
    out[HEAD + i * (experts + 1) + experts] = l.entropy;
  });
  return out;
}

function expertMetrics(stats: Float64Array, layers: number, workers: number): ExpertLoadMetric[] {
  const experts = (stats.length - HEAD) / layers - 1;
  const out: ExpertLoadMetric[] = [];
  for (let l = 0; l < layers; l++) {
    const at = HEAD + l * (experts + 1);
    const load = Array.from(stats.subarray(at, at + experts));
    const mean = load.reduce((a, b) => a + b, 0) / experts;
    const std = Math.sqrt(load.reduce((a, b) => a + (b - mean) ** 2, 0) / experts);
    out.push({
      layer: l,
      load,
      cv: mean > 0 ? std / mean : 0,
      entropy: stats[at + experts]! / workers,
    });
  }
  return out;
}

/**
 * One data-parallel optimizer step: forward and backward on this worker's
 * share of the batch (float32 throughout: the CPU and WASM backends of
 * TensorFlow.js have no float16/bfloat16 kernels, so there is no mixed
 * precision), gradients to one host buffer, averaged over the group (when
 * there is one and `syncGradients`), clipped by global norm, and an AdamW
 * step at learning rate `lr`. Loss values and expert loads are averaged
 * (loads summed) over the workers in the same all-reduce round, and so is
 * the stop vote, so every worker stops after the same step.
 */
export async function trainStep(
  model: CausalLM,
  optimizer: AdamW,
  layout: ParamLayout,
  batch: LmBatch,
  options: {
    lr: number;
    clip: number;
    group: CollectiveGroupV1 | undefined;
    syncGradients: boolean;
    /** This worker's vote to stop after this step (SIGINT/SIGTERM). */
    stopVote: boolean;
  },
): Promise<StepResult> {
  const r = model.valueAndGrads(
    { ids: batch.ids, batch: batch.batch, seq: batch.seq },
    { targets: batch.targets },
  );
  const flat = layout.flattenAndDispose(r.grads);
  const stats = packStats(r.loss, r.crossEntropy, r.auxLoss, options.stopVote, r.expertLoad);
  let commMs = 0;
  const group = options.syncGradients ? options.group : undefined;
  const workers = group?.worldSize ?? 1;
  if (group && workers > 1) {
    const t0 = performance.now();
    await group.allReduce(flat, 'avg');
    await group.allReduce(stats, 'sum');
    commMs = performance.now() - t0;
  }
  const gradNorm = clipByGlobalNorm(flat, options.clip);
  const grads = layout.toTensors(flat);
  try {
    optimizer.step(grads, options.lr);
  } finally {
    for (const g of grads.values()) g.dispose();
  }
  return {
    loss: stats[0]! / workers,
    crossEntropy: stats[1]! / workers,
    auxLoss: stats[2]! / workers,
    gradNorm,
    commMs,
    expertLoad:
      r.expertLoad.length > 0 ? expertMetrics(stats, r.expertLoad.length, workers) : undefined,
    stop: stats[3]! > 0,
  };
}
