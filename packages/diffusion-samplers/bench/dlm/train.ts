// Brief training of the benchmark's masked diffusion LM and AR verifier on
// the synthetic language; weights cached under bench/.tmp (gitignored).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { PortableRng } from '../../src/index.js';
import { MASK, PROMPT_LEN, randomSentence, SEQ_LEN, VOCAB } from './language.js';
import { type TinyConfig, TinyTransformer, type TinyWeights } from './tiny-transformer.js';

const tmp = join(dirname(fileURLToPath(import.meta.url)), '..', '.tmp');

/** Training settings; part of the cache key. */
export interface TrainSettings {
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  /** Continue from the weights these settings produced (trained or cached first). */
  resume?: TrainSettings;
}

/** Result of {@link loadOrTrain}. */
export interface Trained {
  net: TinyTransformer;
  /** Final training loss (mean of the last 20 steps), from the run that made the weights. */
  finalLoss: number;
  trainSeconds: number;
  cached: boolean;
}

/**
 * Masked-diffusion loss (LLaDA / SMDM): per sequence t ~ U(0.05, 1], every
 * generated token masked with probability t (in 20% of sequences the prompt
 * too, so the prompt-masked pass that unsupervised CFG needs is in
 * distribution); cross-entropy on the masked positions, averaged over them
 * (the 1/t weighting of the ELBO is dropped: lower variance for a short run).
 */
function maskedBatch(rng: PortableRng, batch: number) {
  const ids = new Int32Array(batch * SEQ_LEN);
  const targets = new Int32Array(batch * SEQ_LEN);
  const weight = new Float32Array(batch * SEQ_LEN);
  for (let b = 0; b < batch; b++) {
    const s = randomSentence(rng);
    const t = 0.05 + 0.95 * rng.uniform();
    const uncond = rng.uniform() < 0.2;
    let any = false;
    for (let p = 0; p < SEQ_LEN; p++) {
      const i = b * SEQ_LEN + p;
      targets[i] = s[p]!;
      const maskable = p >= PROMPT_LEN || (uncond && p > 0);
      const masked = maskable && (rng.uniform() < t || (!any && p === SEQ_LEN - 1));
      ids[i] = masked ? MASK : s[p]!;
      if (masked) {
        weight[i] = 1;
        any = true;
      }
    }
  }
  return { ids, targets, weight };
}

/** Next-token batch for the causal verifier. */
function arBatch(rng: PortableRng, batch: number) {
  const ids = new Int32Array(batch * SEQ_LEN);
  const targets = new Int32Array(batch * SEQ_LEN);
  const weight = new Float32Array(batch * SEQ_LEN);
  for (let b = 0; b < batch; b++) {
    const s = randomSentence(rng);
    for (let p = 0; p < SEQ_LEN; p++) {
      ids[b * SEQ_LEN + p] = s[p]!;
      if (p + 1 < SEQ_LEN) {
        targets[b * SEQ_LEN + p] = s[p + 1]!;
        weight[b * SEQ_LEN + p] = 1;
      }
    }
  }
  return { ids, targets, weight };
}

/** Load cached weights for (config, settings) or train and cache them. */
export function loadOrTrain(
  config: TinyConfig,
  settings: TrainSettings,
  log = console.log,
): Trained {
  const key = createHash('sha256')
    .update(JSON.stringify({ config, settings, SEQ_LEN, VOCAB, v: 1 }))
    .digest('hex')
    .slice(0, 12);
  const file = join(tmp, `dlm-${config.causal ? 'ar' : 'mdm'}-${key}.json`);
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      weights: TinyWeights;
      finalLoss: number;
      trainSeconds: number;
    };
    return {
      net: new TinyTransformer(config, settings.seed, saved.weights),
      finalLoss: saved.finalLoss,
      trainSeconds: saved.trainSeconds,
      cached: true,
    };
  }
  let init: TinyWeights | undefined;
  let priorSeconds = 0;
  if (settings.resume !== undefined) {
    const prior = loadOrTrain(config, settings.resume, log);
    init = prior.net.export();
    priorSeconds = prior.trainSeconds;
    prior.net.dispose();
  }
  const net = new TinyTransformer(config, settings.seed, init);
  const rng = new PortableRng(settings.seed + 1000);
  const opt = tf.train.adam(settings.lr);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < settings.steps; step++) {
    const data = config.causal ? arBatch(rng, settings.batch) : maskedBatch(rng, settings.batch);
    const loss = tf.tidy(() => {
      const ids = tf.tensor2d(data.ids, [settings.batch, SEQ_LEN], 'int32');
      const target = tf.oneHot(tf.tensor1d(data.targets, 'int32'), VOCAB);
      const w = tf.tensor1d(data.weight);
      return opt.minimize(() => {
        const logits = tf.reshape(net.logits(ids), [settings.batch * SEQ_LEN, VOCAB]);
        const nll = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1));
        return tf.div(tf.sum(tf.mul(nll, w)), tf.sum(w)) as tf.Scalar;
      }, true)!;
    });
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
    if (step % 50 === 0 || step === settings.steps - 1)
      log(`  ${config.causal ? 'ar ' : 'mdm'} step ${step} loss ${losses.at(-1)!.toFixed(4)}`);
  }
  opt.dispose();
  const trainSeconds = priorSeconds + (performance.now() - t0) / 1000;
  const tail = losses.slice(-20);
  const finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
  mkdirSync(tmp, { recursive: true });
  writeFileSync(file, JSON.stringify({ weights: net.export(), finalLoss, trainSeconds }));
  return { net, finalLoss, trainSeconds, cached: false };
}
