// A small pre-LayerNorm transformer in tfjs-core ops: bidirectional as a
// masked diffusion LM (with K/V hooks), or causal as APD's verifier.
import * as tf from '@tensorflow/tfjs-core';
import {
  type AutoregressiveLmV1,
  type DlmPartialForward,
  type DlmPartialOutput,
  type MaskedDiffusionLmV1,
  PortableRng,
} from '../../src/index.js';

/** Shape of a {@link TinyTransformer}. */
export interface TinyConfig {
  vocab: number;
  maxLen: number;
  dModel: number;
  heads: number;
  layers: number;
  ffn: number;
  causal: boolean;
}

/** Parameters by name, as plain arrays (the weight cache's format). */
export type TinyWeights = Record<string, { shape: number[]; data: number[] }>;

/**
 * Token + learned position embeddings, `layers` pre-LN blocks (multi-head
 * attention, ReLU MLP), a final LayerNorm and an output projection.
 */
export class TinyTransformer {
  readonly config: TinyConfig;
  readonly params = new Map<string, tf.Variable>();

  constructor(config: TinyConfig, seed: number, weights?: TinyWeights) {
    this.config = config;
    const rng = new PortableRng(seed);
    const { vocab, maxLen, dModel: d, layers, ffn } = config;
    const add = (
      name: string,
      shape: number[],
      init: 'normal' | 'zeros' | 'ones',
      scale = 0.02,
    ) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const w = weights?.[name];
      const data =
        w !== undefined
          ? Float32Array.from(w.data)
          : init === 'normal'
            ? Float32Array.from(rng.normals(n), (x) => x * scale)
            : new Float32Array(n).fill(init === 'ones' ? 1 : 0);
      this.params.set(name, tf.variable(tf.tensor(data, shape), true, `${seed}/${name}`));
    };
    add('tok', [vocab, d], 'normal');
    add('pos', [maxLen, d], 'normal');
    for (let l = 0; l < layers; l++) {
      add(`l${l}.ln1.g`, [d], 'ones');
      add(`l${l}.ln1.b`, [d], 'zeros');
      for (const m of ['wq', 'wk', 'wv']) add(`l${l}.${m}`, [d, d], 'normal', 1 / Math.sqrt(d));
      add(`l${l}.wo`, [d, d], 'normal', 1 / Math.sqrt(d) / Math.sqrt(2 * layers));
      add(`l${l}.ln2.g`, [d], 'ones');
      add(`l${l}.ln2.b`, [d], 'zeros');
      add(`l${l}.w1`, [d, ffn], 'normal', 1 / Math.sqrt(d));
      add(`l${l}.b1`, [ffn], 'zeros');
      add(`l${l}.w2`, [ffn, d], 'normal', 1 / Math.sqrt(ffn) / Math.sqrt(2 * layers));
      add(`l${l}.b2`, [d], 'zeros');
    }
    add('lnf.g', [d], 'ones');
    add('lnf.b', [d], 'zeros');
    add('out', [d, vocab], 'normal', 1 / Math.sqrt(d));
    add('outb', [vocab], 'zeros');
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  private layerNorm(x: tf.Tensor, name: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const norm = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(norm, this.p(`${name}.g`)), this.p(`${name}.b`));
  }

  /** `[B, n, d]` -> `[B, n, heads, dh]`. */
  private split(x: tf.Tensor, B: number, n: number): tf.Tensor4D {
    const { heads, dModel } = this.config;
    return tf.reshape(x, [B, n, heads, dModel / heads]);
  }

  /**
   * Run the queries `ids` at `positions`, attending to themselves and to the
   * per-layer `context` K/V; returns logits and the queries' K/V. Not tidied:
   * call inside `tf.tidy`.
   */
  run(args: DlmPartialForward): DlmPartialOutput {
    const { heads, dModel: d, layers, vocab, causal } = this.config;
    const [B, n] = args.ids.shape;
    const dh = d / heads;
    const pos = tf.tensor1d(args.positions as number[], 'int32');
    let h = tf.add(
      tf.reshape(tf.gather(this.p('tok'), tf.reshape(args.ids, [B * n])), [B, n, d]),
      tf.gather(this.p('pos'), pos),
    );
    const m = args.context?.positions.length ?? 0;
    let bias: tf.Tensor | undefined;
    if (causal) {
      const all = [...(args.context?.positions ?? []), ...args.positions];
      const mask = new Float32Array(n * all.length);
      args.positions.forEach((q, i) => {
        all.forEach((k, j) => {
          if (k > q) mask[i * all.length + j] = -1e9;
        });
      });
      bias = tf.tensor4d(mask, [1, 1, n, all.length]);
    }
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    for (let l = 0; l < layers; l++) {
      const a = tf.reshape(this.layerNorm(h, `l${l}.ln1`), [B * n, d]);
      const q = this.split(tf.matMul(a, this.p(`l${l}.wq`)), B, n);
      const k = this.split(tf.matMul(a, this.p(`l${l}.wk`)), B, n);
      const v = this.split(tf.matMul(a, this.p(`l${l}.wv`)), B, n);
      keys.push(k);
      values.push(v);
      const K = m > 0 ? tf.concat([args.context!.keys[l]!, k], 1) : k;
      const Vv = m > 0 ? tf.concat([args.context!.values[l]!, v], 1) : v;
      const qh = tf.transpose(q, [0, 2, 1, 3]);
      const kh = tf.transpose(K, [0, 2, 1, 3]);
      const vh = tf.transpose(Vv, [0, 2, 1, 3]);
      let scores = tf.div(tf.matMul(qh, kh, false, true), Math.sqrt(dh));
      if (bias !== undefined) scores = tf.add(scores, bias);
      const o = tf.matMul(tf.softmax(scores), vh);
      const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * n, d]);
      h = tf.add(h, tf.reshape(tf.matMul(merged, this.p(`l${l}.wo`)), [B, n, d]));
      const f = tf.reshape(this.layerNorm(h, `l${l}.ln2`), [B * n, d]);
      const hidden = tf.relu(tf.add(tf.matMul(f, this.p(`l${l}.w1`)), this.p(`l${l}.b1`)));
      const ff = tf.add(tf.matMul(hidden, this.p(`l${l}.w2`)), this.p(`l${l}.b2`));
      h = tf.add(h, tf.reshape(ff, [B, n, d]));
    }
    const fin = tf.reshape(this.layerNorm(h, 'lnf'), [B * n, d]);
    const logits = tf.reshape(tf.add(tf.matMul(fin, this.p('out')), this.p('outb')), [
      B,
      n,
      vocab,
    ]) as tf.Tensor3D;
    return { logits, keys, values };
  }

  /** Logits of a full pass over `ids` `[B, L]`. Not tidied. */
  logits(ids: tf.Tensor2D): tf.Tensor3D {
    const positions = Array.from({ length: ids.shape[1] }, (_, i) => i);
    return this.run({ ids, positions }).logits;
  }

  /** The weights as plain arrays. */
  export(): TinyWeights {
    const out: TinyWeights = {};
    for (const [name, v] of this.params)
      out[name] = { shape: v.shape, data: Array.from(v.dataSync()) };
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

/** The bidirectional transformer as a {@link MaskedDiffusionLmV1} with K/V hooks. */
export function asMaskedLm(net: TinyTransformer, maskId: number): MaskedDiffusionLmV1 {
  const { layers, heads, dModel } = net.config;
  return {
    specificationVersion: 'v1',
    vocabSize: net.config.vocab,
    maskId,
    forward: (ids) => tf.tidy(() => net.logits(ids)),
    kv: {
      numLayers: layers,
      numKvHeads: heads,
      headDim: dModel / heads,
      forwardWithKv: (args) =>
        tf.tidy(() => {
          const out = net.run(args);
          return { logits: out.logits, keys: out.keys, values: out.values } as never;
        }) as DlmPartialOutput,
    },
  };
}

/** The causal transformer as an {@link AutoregressiveLmV1}. */
export function asAutoregressive(net: TinyTransformer): AutoregressiveLmV1 {
  return {
    specificationVersion: 'v1',
    vocabSize: net.config.vocab,
    forward: (ids) => tf.tidy(() => net.logits(ids)),
  };
}
