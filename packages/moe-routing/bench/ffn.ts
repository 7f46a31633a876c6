import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { DispatchMode, ExpertParams, MoEConfig } from '../src/index.js';
import {
  createTopKRouter,
  expertForward,
  initExpertParams,
  initMoEParams,
  moeForward,
  paramTensors,
} from '../src/index.js';

/** One measured row: MoE against a dense FFN of the same active parameters. */
export interface FfnRow {
  readonly backend: string;
  readonly dispatch: DispatchMode;
  readonly config: string;
  readonly moeMs: number;
  readonly denseMs: number;
  readonly moeTokensPerS: number;
  readonly denseTokensPerS: number;
  readonly moeOverDense: number;
  readonly dropRate: number;
}

/**
 * Median wall time of each step over `reps` rounds after one warm-up round.
 * The steps run interleaved inside every round, so load from other processes
 * on a shared machine hits dense and MoE alike and the ratio stays fair.
 */
function interleavedMedians(steps: readonly (() => void)[], reps: number): number[] {
  for (const step of steps) step();
  const times = steps.map((): number[] => []);
  for (let i = 0; i < reps; i++) {
    steps.forEach((step, j) => {
      const t0 = performance.now();
      step();
      times[j]!.push(performance.now() - t0);
    });
  }
  return times.map((ts) => ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!);
}

/**
 * Forward + backward of an 8-expert top-2 SwiGLU MoE FFN (hidden H per
 * expert) against a dense SwiGLU FFN of hidden 2H: the same parameters
 * active per token. Gradients for every weight and the input.
 */
export async function ffnBench(
  backends: readonly ('cpu' | 'wasm')[],
  dispatches: readonly DispatchMode[],
  cfg = { tokens: 512, modelDim: 128, hiddenDim: 256, numExperts: 8, k: 2 },
  reps = 7,
): Promise<FfnRow[]> {
  const { tokens: T, modelDim: D, hiddenDim: H, numExperts: E, k } = cfg;
  const config = `T=${T}, D=${D}, ${E} experts top-${k} x H=${H} vs dense H=${k * H}, SwiGLU, fwd+bwd`;
  const rows: FfnRow[] = [];
  for (const backend of backends) {
    await initBackend({ backend });
    // x is a variable too, so the backward pass includes dx as inside a model.
    const x = tf.variable(
      tf.tensor2d(new SeededRandom(1).fillNormal(new Float32Array(T * D)), [T, D]),
    ) as tf.Variable<tf.Rank.R2>;
    const denseParams: ExpertParams = initExpertParams(D, k * H, 'swiglu', new SeededRandom(2));
    const denseVars = [denseParams.w1, denseParams.w2, denseParams.w3!].map((t) => tf.variable(t));
    const denseStep = (): void => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const p = { w1: denseVars[0]!, w2: denseVars[1]!, w3: denseVars[2]! };
          return tf.mean(tf.square(expertForward(p, 'swiglu', x))) as tf.Scalar;
        });
        for (const g of Object.values(grads)) g.dataSync();
      });
    };
    const moeSteps: (() => void)[] = [];
    const dropRates: number[] = [];
    const cleanup: tf.Tensor[] = [];
    for (const dispatch of dispatches) {
      const moeConfig: MoEConfig = {
        modelDim: D,
        hiddenDim: H,
        activation: 'swiglu',
        router: createTopKRouter({ numExperts: E, k }),
        dispatch,
        capacityFactor: 1.25,
      };
      const init = initMoEParams(moeConfig, 3);
      const vars = paramTensors(init).map((t) => tf.variable(t));
      const params = {
        routerWeight: vars[0]!,
        experts: Array.from({ length: E }, (_, e) => ({
          w1: vars[1 + 3 * e]!,
          w2: vars[2 + 3 * e]!,
          w3: vars[3 + 3 * e]!,
        })),
      };
      const slot = dropRates.push(0) - 1;
      moeSteps.push(() => {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const r = moeForward(moeConfig, params, x);
            dropRates[slot] = r.stats.dropRate;
            return tf.addN([tf.mean(tf.square(r.output)), r.auxLoss, r.zLoss]) as tf.Scalar;
          });
          for (const g of Object.values(grads)) g.dataSync();
        });
      });
      cleanup.push(...vars, ...paramTensors(init));
    }
    const [denseMs, ...moeMs] = interleavedMedians([denseStep, ...moeSteps], reps);
    dispatches.forEach((dispatch, i) => {
      rows.push({
        backend,
        dispatch,
        config,
        moeMs: moeMs[i]!,
        denseMs: denseMs!,
        moeTokensPerS: (T * 1000) / moeMs[i]!,
        denseTokensPerS: (T * 1000) / denseMs!,
        moeOverDense: moeMs[i]! / denseMs!,
        dropRate: dropRates[i]!,
      });
    });
    tf.dispose(cleanup);
    tf.dispose([x, ...denseVars, denseParams.w1, denseParams.w2, denseParams.w3!]);
  }
  return rows;
}
