import * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';
import { flatten, unflatten } from './host/flat.js';

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
 * `p ← p·(1 − lr·wd) − lr·m̂ / (√v̂ + eps)`. The moments of all parameters
 * live in two flat vectors and every step updates them with about twenty
 * kernels in all (gradients and parameters flattened by one host copy each,
 * new parameters cut back out by one): per parameter it took fourteen
 * kernels each, over half of a small model's training step. {@link state}
 * and {@link setState} give and take the moments per parameter for
 * checkpoints.
 */
export class AdamW {
  readonly settings: Required<AdamWSettings>;
  private readonly params: ReadonlyMap<string, tf.Variable>;
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  /** 1 on the entries of decayed (rank ≥ 2) parameters, 0 on the others. */
  private readonly decayMask: tf.Variable;
  private perName: { m: Map<string, tf.Variable>; v: Map<string, tf.Variable> } | undefined;
  private t = 0;

  constructor(params: ReadonlyMap<string, tf.Variable>, settings: AdamWSettings) {
    this.params = params;
    this.settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, ...settings };
    const sizes = [...params.values()].map((p) => p.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const mask = new Float32Array(total);
    let off = 0;
    for (const p of params.values()) {
      if (p.rank >= 2) mask.fill(1, off, off + p.size);
      off += p.size;
    }
    // Inside tidy so the tensors the variables copy are freed.
    this.m = tf.tidy(() => tf.variable(tf.zeros([total]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([total]), false));
    this.decayMask = tf.tidy(() => tf.variable(tf.tensor1d(mask), false));
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Apply one update from gradients keyed by parameter name (they are not disposed). */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr = this.settings.lr): void {
    const { beta1, beta2, eps, weightDecay } = this.settings;
    const ordered: tf.Tensor[] = [];
    const casts: tf.Tensor[] = [];
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) throw new PlexusModelsError('adamw', `no gradient for parameter '${name}'`);
      if (g.shape.join() !== p.shape.join())
        throw new PlexusModelsError(
          'adamw',
          `gradient for '${name}' has shape [${g.shape.join(', ')}]; expected [${p.shape.join(', ')}]`,
        );
      if (g.dtype === 'float32') ordered.push(g);
      else {
        casts.push(tf.cast(g, 'float32'));
        ordered.push(casts[casts.length - 1]!);
      }
    }
    this.dropPerName();
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const params = [...this.params.values()];
    tf.tidy(() => {
      const g = flatten(ordered);
      const p = flatten(params);
      const m = this.m;
      const v = this.v;
      const m1 = tf.add(m, tf.mul(tf.sub(g, m), 1 - beta1));
      const v1 = tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - beta2));
      // lr·m̂ / (√v̂ + eps) with the bias corrections folded into scalars.
      const update = tf.div(
        tf.mul(m1, lr / c1),
        tf.add(tf.mul(tf.sqrt(v1), 1 / Math.sqrt(c2)), eps),
      );
      const decayed =
        weightDecay > 0 ? tf.sub(p, tf.mul(tf.mul(p, this.decayMask), lr * weightDecay)) : p;
      const next = unflatten(
        tf.sub(decayed, update) as tf.Tensor1D,
        params.map((x) => x.shape),
      );
      m.assign(m1);
      v.assign(v1);
      params.forEach((x, i) => {
        x.assign(next[i]!);
      });
    });
    tf.dispose(casts);
  }

  /**
   * The step count and moments per parameter name, for checkpoints: read,
   * don't dispose; they stay valid until the next {@link step},
   * {@link setState} or {@link dispose}.
   */
  state(): {
    step: number;
    m: ReadonlyMap<string, tf.Variable>;
    v: ReadonlyMap<string, tf.Variable>;
  } {
    if (!this.perName) {
      const names = [...this.params.keys()];
      const shapes = [...this.params.values()].map((p) => p.shape);
      const split = (flat: tf.Variable) =>
        new Map(
          tf.tidy(() =>
            unflatten(flat as tf.Tensor1D, shapes).map(
              (t, i) => [names[i]!, tf.variable(t, false)] as const,
            ),
          ),
        );
      this.perName = { m: split(this.m), v: split(this.v) };
    }
    return { step: this.t, ...this.perName };
  }

  /** Restore a step count and moments (host arrays by parameter name). */
  setState(
    step: number,
    m: ReadonlyMap<string, Float32Array>,
    v: ReadonlyMap<string, Float32Array>,
  ): void {
    const total = this.m.size;
    const mFlat = new Float32Array(total);
    const vFlat = new Float32Array(total);
    let off = 0;
    for (const [name, p] of this.params) {
      const mm = m.get(name);
      const vv = v.get(name);
      if (!mm || !vv || mm.length !== p.size || vv.length !== p.size)
        throw new PlexusModelsError(
          'adamw',
          `state for '${name}' is missing or not ${p.size} values`,
        );
      mFlat.set(mm, off);
      vFlat.set(vv, off);
      off += p.size;
    }
    this.dropPerName();
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(mFlat));
      this.v.assign(tf.tensor1d(vFlat));
    });
    this.t = step;
  }

  /** Free the moment variables. */
  dispose(): void {
    this.dropPerName();
    for (const x of [this.m, this.v, this.decayMask]) x.dispose();
  }

  private dropPerName(): void {
    if (!this.perName) return;
    for (const x of [...this.perName.m.values(), ...this.perName.v.values()]) x.dispose();
    this.perName = undefined;
  }
}
