import * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';

/** Settings of {@link AdamW}. */
export interface AdamWSettings {
  /** Learning rate; `step` may override it (schedules). */
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay; default 0.1, applied to rank ≥ 2 parameters only (not norms). */
  readonly weightDecay?: number;
}

/**
 * Adam with decoupled weight decay ("Decoupled Weight Decay
 * Regularization", Loshchilov & Hutter, 2019), as `torch.optim.AdamW`:
 * `p ← p − lr·(m̂ / (√v̂ + eps) + wd·p)`. Moments are variables keyed like the
 * parameters, so a checkpoint can save and restore them ({@link state}).
 */
export class AdamW {
  readonly settings: Required<AdamWSettings>;
  private readonly params: ReadonlyMap<string, tf.Variable>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(params: ReadonlyMap<string, tf.Variable>, settings: AdamWSettings) {
    this.params = params;
    this.settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, ...settings };
    for (const [name, p] of params) {
      // Inside tidy so the zero tensors the variables copy are freed.
      this.m.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
      this.v.set(
        name,
        tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      );
    }
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Apply one update from gradients keyed by parameter name (they are not disposed). */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr = this.settings.lr): void {
    const { beta1, beta2, eps, weightDecay } = this.settings;
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      // Scalars made once per step (each number operand would otherwise be
      // uploaded as a new tensor per use), and the update folded into 14
      // kernels per parameter:
      // p·(1 − lr·wd) − (lr/c1)·m / (√v·(1/√c2) + eps).
      const s = (x: number) => tf.scalar(x);
      const [oneMinusB1, oneMinusB2, stepScale, vScale, epsT, decayScale] = [
        s(1 - beta1),
        s(1 - beta2),
        s(lr / c1),
        s(1 / Math.sqrt(c2)),
        s(eps),
        s(1 - lr * weightDecay),
      ];
      for (const [name, p] of this.params) {
        const g = grads.get(name);
        if (!g) throw new PlexusModelsError('adamw', `no gradient for parameter '${name}'`);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(m, tf.mul(tf.sub(g, m), oneMinusB1));
        const v1 = tf.add(v, tf.mul(tf.sub(tf.square(g), v), oneMinusB2));
        const update = tf.div(tf.mul(m1, stepScale), tf.add(tf.mul(tf.sqrt(v1), vScale), epsT));
        const decayed = weightDecay > 0 && p.rank >= 2 ? tf.mul(p, decayScale) : p;
        m.assign(m1);
        v.assign(v1);
        p.assign(tf.sub(decayed, update));
      }
    });
  }

  /** The step count and moments (live variables; read, don't dispose). */
  state(): {
    step: number;
    m: ReadonlyMap<string, tf.Variable>;
    v: ReadonlyMap<string, tf.Variable>;
  } {
    return { step: this.t, m: this.m, v: this.v };
  }

  /** Restore a step count and moments (host arrays by parameter name). */
  setState(
    step: number,
    m: ReadonlyMap<string, Float32Array>,
    v: ReadonlyMap<string, Float32Array>,
  ): void {
    for (const [name, p] of this.params) {
      const mm = m.get(name);
      const vv = v.get(name);
      if (!mm || !vv || mm.length !== p.size || vv.length !== p.size)
        throw new PlexusModelsError(
          'adamw',
          `state for '${name}' is missing or not ${p.size} values`,
        );
      tf.tidy(() => {
        this.m.get(name)!.assign(tf.tensor(mm, p.shape));
        this.v.get(name)!.assign(tf.tensor(vv, p.shape));
      });
    }
    this.t = step;
  }

  /** Free the moment variables. */
  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}
