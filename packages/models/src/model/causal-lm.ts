import { createTopKRouter, type RouterV1 } from '@plexus/moe-routing';
import * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';
import { causalAttention } from './attention.js';
import { isMoE, type ModelConfig } from './config.js';
import { linearCat } from './fused/linear.js';
import { residualAdd } from './fused/residual.js';
import { rmsNorm } from './fused/rms-norm.js';
import { qkvRopeTables, rotateQK } from './fused/rope.js';
import { swiglu } from './fused/swiglu.js';
import { moeBlock } from './moe-block.js';
import { crossEntropy, gatherRows, ropeTables, splitColumns } from './ops.js';
import { EMBED, FINAL_NORM, initParamValues, LM_HEAD, layerNames, paramSpecs } from './params.js';

/** Token ids `[batch, seq]`, row-major. */
export interface TokenBatch {
  readonly ids: Int32Array;
  readonly batch: number;
  readonly seq: number;
}

/** Routing statistics of one MoE layer for one forward pass. */
export interface ExpertLoad {
  readonly layer: number;
  /** Tokens routed to each expert (top-k choices, so they sum to tokens × k). */
  readonly load: Float64Array;
  /** std / mean of the load; 0 is perfect balance. */
  readonly coefficientOfVariation: number;
  /** Mean router entropy in nats. */
  readonly entropy: number;
}

/** What {@link CausalLM.forward} returns; the caller disposes the tensors. */
export interface ForwardResult {
  /** `[batch, seq, vocab]`. */
  readonly logits: tf.Tensor3D;
  /** Mean over MoE layers of the weighted load-balancing loss (0 for dense models). */
  readonly auxLoss: tf.Scalar;
  /** Per MoE layer (empty for dense models). */
  readonly expertLoad: readonly ExpertLoad[];
}

/** What {@link CausalLM.computeLoss} returns; the caller disposes the tensors. */
export interface LossResult {
  /** `crossEntropy + auxLoss`: what training minimises. */
  readonly loss: tf.Scalar;
  /** Mean next-token cross-entropy over counted targets. */
  readonly crossEntropy: tf.Scalar;
  readonly auxLoss: tf.Scalar;
  readonly expertLoad: readonly ExpertLoad[];
}

/** Per-call options of {@link CausalLM.forward} and {@link CausalLM.computeLoss}. */
export interface ForwardOptions {
  /** Training mode for the router (no effect on Mixtral's deterministic top-k); default true. */
  readonly training?: boolean;
}

/**
 * Projected, rotated Q/K/V of one layer for `n` tokens (token-major), handed
 * to an attention implementation that returns `[n, H·d]`.
 */
export type AttendFn = (
  layer: number,
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
) => tf.Tensor2D;

/** Host gradients and values of one {@link CausalLM.valueAndGrads} call. */
export interface ValueAndGrads {
  readonly loss: number;
  readonly crossEntropy: number;
  readonly auxLoss: number;
  /** Gradient per Hugging Face parameter name; the caller disposes them. */
  readonly grads: Map<string, tf.Tensor>;
  readonly expertLoad: readonly ExpertLoad[];
}

const MODULE = 'model';

/**
 * A Llama-style decoder-only transformer ("LLaMA: Open and Efficient
 * Foundation Language Models", Touvron et al., 2023): RMSNorm, rotary
 * embeddings, grouped-query causal attention and a SwiGLU MLP ("GLU
 * Variants Improve Transformer", Shazeer, 2020); with `num_local_experts`
 * the MLP is the Mixtral top-k mixture of SwiGLU experts ("Mixtral of
 * Experts", Jiang et al., 2024) from `@plexus/moe-routing`. Parameters are
 * trainable `tf.Variable`s keyed by their Hugging Face names, in Hugging
 * Face layouts, so checkpoints load and save without renaming.
 */
export class CausalLM {
  readonly config: ModelConfig;
  /** Parameters by Hugging Face tensor name. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  private readonly router: RouterV1 | undefined;
  private disposed = false;
  /** Rotary tables of the last positions seen: training repeats `0..T-1` in every batch. */
  private ropeCache: { positions: Int32Array; cos: Float32Array; sin: Float32Array } | undefined;

  /**
   * Build from parameter values by name (host arrays or tensors, which are
   * copied). Every name of {@link paramSpecs} must be present with its shape.
   */
  constructor(config: ModelConfig, values: ReadonlyMap<string, Float32Array | tf.Tensor>) {
    this.config = config;
    const params = new Map<string, tf.Variable>();
    try {
      for (const spec of paramSpecs(config)) {
        const v = values.get(spec.name);
        if (v === undefined)
          throw new PlexusModelsError(
            MODULE,
            `missing parameter '${spec.name}' [${spec.shape.join(', ')}]`,
          );
        const shape = v instanceof Float32Array ? null : v.shape;
        const size = spec.shape.reduce((a, d) => a * d, 1);
        if (shape ? shape.join() !== spec.shape.join() : (v as Float32Array).length !== size)
          throw new PlexusModelsError(
            MODULE,
            `parameter '${spec.name}' has ${shape ? `shape [${shape.join(', ')}]` : `${(v as Float32Array).length} values`}; expected [${spec.shape.join(', ')}]`,
          );
        const t =
          v instanceof Float32Array
            ? tf.tensor(v, [...spec.shape], 'float32')
            : tf.cast(v, 'float32');
        params.set(spec.name, tf.variable(t, true));
        t.dispose();
      }
    } catch (e) {
      for (const p of params.values()) p.dispose();
      throw e;
    }
    this.params = params;
    if (isMoE(config)) {
      this.router = createTopKRouter({
        numExperts: config.num_local_experts,
        k: config.num_experts_per_tok,
        order: 'softmax-then-topk',
        renormalize: true,
      });
    }
  }

  /** A freshly initialised model (seeded; identical on every backend). */
  static init(config: ModelConfig, options: { seed: number }): CausalLM {
    return new CausalLM(config, initParamValues(config, options.seed));
  }

  /** Every trainable variable, in {@link paramSpecs} order. */
  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** The parameter `name`. */
  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new PlexusModelsError(MODULE, `no parameter named '${name}'`);
    if (this.disposed) throw new PlexusModelsError(MODULE, 'the model was disposed');
    return p;
  }

  /** Logits `[batch, seq, vocab]` for token ids (positions `0..seq-1` in every row). */
  forward(input: TokenBatch, options: ForwardOptions = {}): ForwardResult {
    this.checkBatch(input);
    const { batch, seq } = input;
    const positions = new Int32Array(batch * seq);
    for (let i = 0; i < positions.length; i++) positions[i] = i % seq;
    const attend: AttendFn = (_layer, q, k, v) => causalAttention(q, k, v, batch, seq);
    let expertLoad: ExpertLoad[] = [];
    const out = tf.tidy(() => {
      const r = this.hidden(input.ids, positions, attend, options.training ?? true);
      expertLoad = r.expertLoad;
      const logits = tf.reshape(this.head(r.hidden), [
        batch,
        seq,
        this.config.vocab_size,
      ]) as tf.Tensor3D;
      return { logits, auxLoss: r.auxLoss };
    });
    return { ...out, expertLoad };
  }

  /**
   * Next-token loss: position `t` predicts `ids[t + 1]` (the last position
   * of each row predicts nothing), as Hugging Face's `labels = input_ids`.
   * `targets` `[batch, seq]` overrides that; negative targets are ignored.
   */
  computeLoss(
    input: TokenBatch,
    options: ForwardOptions & { targets?: Int32Array } = {},
  ): LossResult {
    const targets = options.targets ?? shiftTargets(input);
    if (targets.length !== input.batch * input.seq)
      throw new PlexusModelsError(
        MODULE,
        `targets has ${targets.length} values; expected batch * seq = ${input.batch * input.seq}`,
      );
    for (const t of targets)
      if (t >= this.config.vocab_size)
        throw new PlexusModelsError(
          MODULE,
          `target ${t} is outside the vocabulary [0, ${this.config.vocab_size})`,
        );
    const f = this.forward(input, options);
    const out = tf.tidy(() => {
      const ce = crossEntropy(
        tf.reshape(f.logits, [-1, this.config.vocab_size]) as tf.Tensor2D,
        targets,
      );
      return { loss: tf.add(ce, f.auxLoss) as tf.Scalar, crossEntropy: ce };
    });
    f.logits.dispose();
    return { ...out, auxLoss: f.auxLoss, expertLoad: f.expertLoad };
  }

  /** Loss values and the gradient of `loss` for every parameter (by HF name). */
  valueAndGrads(
    input: TokenBatch,
    options: ForwardOptions & { targets?: Int32Array } = {},
  ): ValueAndGrads {
    let ce: tf.Scalar | undefined;
    let aux: tf.Scalar | undefined;
    let expertLoad: readonly ExpertLoad[] = [];
    const vars = this.trainableVariables;
    const { value, grads } = tf.variableGrads(() => {
      const r = this.computeLoss(input, options);
      ce = tf.keep(r.crossEntropy);
      aux = tf.keep(r.auxLoss);
      expertLoad = r.expertLoad;
      return r.loss;
    }, vars);
    const named = new Map<string, tf.Tensor>();
    for (const [name, v] of this.params) named.set(name, grads[v.name]!);
    const result = {
      loss: value.dataSync()[0]!,
      crossEntropy: ce!.dataSync()[0]!,
      auxLoss: aux!.dataSync()[0]!,
      grads: named,
      expertLoad,
    };
    tf.dispose([value, ce!, aux!]);
    return result;
  }

  /**
   * The decoder stack on `n` tokens at the given positions, with attention
   * supplied by the caller (full causal for training, paged for decoding):
   * returns the final hidden states `[n, D]` (before the final norm).
   */
  hidden(
    ids: Int32Array,
    positions: Int32Array,
    attend: AttendFn,
    training = false,
  ): { hidden: tf.Tensor2D; auxLoss: tf.Scalar; expertLoad: ExpertLoad[] } {
    const c = this.config;
    const n = ids.length;
    const H = c.num_attention_heads;
    const kvH = c.num_key_value_heads;
    const d = c.head_dim;
    const expertLoad: ExpertLoad[] = [];
    const out = tf.tidy(() => {
      const host = this.qkvRope(positions);
      const W = (H + 2 * kvH) * d;
      const tables = {
        cos: tf.tensor2d(host.cos, [n, W]),
        sin: tf.tensor2d(host.sin, [n, W]),
        cosHost: host.cos,
        sinHost: host.sin,
      };
      let x = gatherRows(this.param(EMBED) as tf.Tensor2D, ids);
      const auxLosses: tf.Scalar[] = [];
      for (let l = 0; l < c.num_hidden_layers; l++) {
        const names = layerNames(l);
        const h = rmsNorm(x, this.param(names.inputNorm), c.rms_norm_eps);
        // One product for Q, K and V, rotated in one pass (separate products measured the same).
        const qkv = linearCat(h, [this.param(names.q), this.param(names.k), this.param(names.v)]);
        const [qf, kf, vf] = splitColumns(rotateQK(qkv, tables, d), [H * d, kvH * d, kvH * d]);
        const q = tf.reshape(qf!, [n, H, d]) as tf.Tensor3D;
        const k = tf.reshape(kf!, [n, kvH, d]) as tf.Tensor3D;
        const v = tf.reshape(vf!, [n, kvH, d]) as tf.Tensor3D;
        x = residualAdd(x, linearCat(attend(l, q, k, v), [this.param(names.o)]));
        const h2 = rmsNorm(x, this.param(names.postNorm), c.rms_norm_eps);
        if (this.router) {
          const r = moeBlock(
            h2,
            l,
            (name) => this.param(name),
            this.router,
            c.router_aux_loss_coef,
            training,
          );
          x = residualAdd(x, r.output);
          auxLosses.push(r.auxLoss);
          expertLoad.push({
            layer: l,
            load: r.load,
            coefficientOfVariation: r.coefficientOfVariation,
            entropy: r.entropy,
          });
        } else {
          const gate = linearCat(h2, [this.param(names.gate)]);
          const up = linearCat(h2, [this.param(names.up)]);
          x = residualAdd(x, linearCat(swiglu(gate, up), [this.param(names.down)]));
        }
      }
      const auxLoss =
        auxLosses.length > 0
          ? (tf.div(tf.addN(auxLosses), auxLosses.length) as tf.Scalar)
          : tf.scalar(0);
      return { hidden: x, auxLoss };
    });
    return { ...out, expertLoad };
  }

  /** {@link qkvRopeTables} for `positions`, reused while the positions repeat. */
  private qkvRope(positions: Int32Array): { cos: Float32Array; sin: Float32Array } {
    const cached = this.ropeCache;
    if (
      cached &&
      cached.positions.length === positions.length &&
      cached.positions.every((p, i) => p === positions[i])
    )
      return cached;
    const c = this.config;
    const rope = ropeTables(positions, c.head_dim, c.rope_theta);
    const kvH = c.num_key_value_heads;
    const tables = qkvRopeTables(
      rope.cos,
      rope.sin,
      positions.length,
      c.head_dim,
      c.num_attention_heads + kvH,
      kvH,
    );
    this.ropeCache = { positions: positions.slice(), ...tables };
    return tables;
  }

  /** Final RMSNorm and the output projection (the embedding when tied): `[n, D]` → `[n, vocab]`. */
  head(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h = rmsNorm(hidden, this.param(FINAL_NORM), this.config.rms_norm_eps);
      return linearCat(h, [this.param(this.config.tie_word_embeddings ? EMBED : LM_HEAD)]);
    });
  }

  /** Free every variable. */
  dispose(): void {
    for (const p of this.params.values()) p.dispose();
    this.disposed = true;
  }

  private checkBatch(input: TokenBatch): void {
    const { ids, batch, seq } = input;
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(seq) || seq < 1)
      throw new PlexusModelsError(
        MODULE,
        `batch ${batch} × seq ${seq}; expected positive integers`,
      );
    if (!(ids instanceof Int32Array) || ids.length !== batch * seq)
      throw new PlexusModelsError(
        MODULE,
        `ids must be an Int32Array of batch * seq = ${batch * seq} values`,
      );
    if (seq > this.config.max_position_embeddings)
      throw new PlexusModelsError(
        MODULE,
        `seq ${seq} exceeds max_position_embeddings ${this.config.max_position_embeddings}`,
      );
    checkIds(ids, this.config.vocab_size);
  }
}

/** Throw unless every id is in `[0, vocab)`. */
export function checkIds(ids: ArrayLike<number>, vocab: number): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= vocab)
      throw new PlexusModelsError(
        MODULE,
        `token id ${t} at ${i} is outside the vocabulary [0, ${vocab})`,
      );
  }
}

/** `targets[b, t] = ids[b, t + 1]`, and −1 (ignored) at each row's last position. */
export function shiftTargets(input: TokenBatch): Int32Array {
  const { ids, batch, seq } = input;
  const out = new Int32Array(batch * seq).fill(-1);
  for (let b = 0; b < batch; b++) out.set(ids.subarray(b * seq + 1, (b + 1) * seq), b * seq);
  return out;
}
