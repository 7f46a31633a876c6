import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerInput } from '../layers/input.js';
import type { NodeClassifier } from '../models/node-classifier.js';

/** Metrics of one epoch. */
export interface EpochMetrics {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
  readonly trainAcc: number;
  readonly valAcc: number;
  readonly testAcc: number;
  readonly ms: number;
}

/** Inputs of {@link trainNodeClassifier}. */
export interface TrainNodeClassifierOptions {
  readonly model: NodeClassifier;
  readonly graph: CsrGraph;
  /** Node features: dense `[N, F]` or sparse rows. */
  readonly features: LayerInput;
  /** Class per node (-1 = unlabelled, never in a split). */
  readonly labels: Int32Array;
  readonly split: {
    readonly train: Int32Array;
    readonly val: Int32Array;
    readonly test: Int32Array;
  };
  readonly numClasses: number;
  readonly seed: number;
  /** Called after every epoch (progress bars, metric logs). */
  readonly onEpoch?: (m: EpochMetrics) => void;
}

/** Outcome of a training run; test accuracy is read at the epoch of best validation accuracy. */
export interface TrainResult {
  readonly bestEpoch: number;
  readonly bestValAcc: number;
  readonly testAcc: number;
  readonly epochsRun: number;
  readonly meanEpochMs: number;
  readonly history: readonly EpochMetrics[];
}

/**
 * Full-batch semi-supervised node classification with Adam and L2 weight
 * decay, early stopping when neither validation accuracy nor validation loss
 * has improved for `patience` epochs (the GAT paper's rule), and model
 * selection by validation accuracy (ties: lower validation loss).
 */
export function trainNodeClassifier(opts: TrainNodeClassifierOptions): TrainResult {
  const { model, graph, features, labels, split, numClasses } = opts;
  const { learningRate, weightDecay, epochs, patience } = model.config;
  const rng = new SeededRandom(opts.seed);
  const ctxTrain = { training: true, nextSeed: () => rng.nextUint32() };
  const ctxEval = { training: false, nextSeed: () => 0 };
  const optimizer = tf.train.adam(learningRate);
  const [trainIdx, valIdx, testIdx, trainY, valY] = tf.tidy(() => [
    tf.tensor1d(split.train, 'int32'),
    tf.tensor1d(split.val, 'int32'),
    tf.tensor1d(split.test, 'int32'),
    tf.oneHot(tf.tensor1d(pick(labels, split.train), 'int32'), numClasses),
    tf.oneHot(tf.tensor1d(pick(labels, split.val), 'int32'), numClasses),
  ]);
  const history: EpochMetrics[] = [];
  let best = { epoch: -1, valAcc: -1, valLoss: Number.POSITIVE_INFINITY, testAcc: 0 };
  let bestLoss = Number.POSITIVE_INFINITY;
  let sinceImprovement = 0;
  let totalMs = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      const lossT = optimizer.minimize(
        () => {
          const logits = model.forward(graph, features, ctxTrain);
          const ce = tf.losses.softmaxCrossEntropy(trainY!, tf.gather(logits, trainIdx!));
          if (weightDecay === 0 || model.decayed.length === 0) return ce as tf.Scalar;
          const l2 = tf.addN(model.decayed.map((v) => tf.sum(tf.square(v))));
          return tf.add(ce, tf.mul(l2, weightDecay / 2)) as tf.Scalar;
        },
        true,
        model.variables as tf.Variable[],
      );
      const trainLoss = lossT!.dataSync()[0]!;
      lossT!.dispose();
      const ms = performance.now() - t0;
      totalMs += ms;
      const [valLoss, accs] = tf.tidy(() => {
        const logits = model.forward(graph, features, ctxEval);
        const vl = tf.losses.softmaxCrossEntropy(valY!, tf.gather(logits, valIdx!)).dataSync()[0]!;
        const pred = tf.argMax(logits, 1).dataSync() as Int32Array;
        return [
          vl,
          [split.train, split.val, split.test].map((ids) => accuracy(pred, labels, ids)),
        ] as const;
      });
      const m: EpochMetrics = {
        epoch,
        trainLoss,
        valLoss,
        trainAcc: accs[0]!,
        valAcc: accs[1]!,
        testAcc: accs[2]!,
        ms,
      };
      history.push(m);
      opts.onEpoch?.(m);
      const better =
        m.valAcc > best.valAcc || (m.valAcc === best.valAcc && m.valLoss < best.valLoss);
      if (better) best = { epoch, valAcc: m.valAcc, valLoss: m.valLoss, testAcc: m.testAcc };
      if (better || m.valLoss < bestLoss) sinceImprovement = 0;
      else sinceImprovement++;
      bestLoss = Math.min(bestLoss, m.valLoss);
      if (sinceImprovement >= patience) break;
    }
  } finally {
    tf.dispose([trainIdx!, valIdx!, testIdx!, trainY!, valY!]);
    optimizer.dispose();
  }
  return {
    bestEpoch: best.epoch,
    bestValAcc: best.valAcc,
    testAcc: best.testAcc,
    epochsRun: history.length,
    meanEpochMs: totalMs / Math.max(1, history.length),
    history,
  };
}

function pick(labels: Int32Array, ids: Int32Array): Int32Array {
  return Int32Array.from(ids, (i) => labels[i]!);
}

function accuracy(pred: Int32Array, labels: Int32Array, ids: Int32Array): number {
  if (ids.length === 0) return 0;
  let hit = 0;
  for (const i of ids) if (pred[i] === labels[i]) hit++;
  return hit / ids.length;
}
