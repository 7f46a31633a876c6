// Oracle predictors for the diffusion-LM decoders: fixed functions with known
// logits, so tests can predict every decision in plain JS.
import * as tf from '@tensorflow/tfjs-core';
import type {
  AutoregressiveLmV1,
  DlmPartialForward,
  DlmPartialOutput,
  MaskedDiffusionLmV1,
} from '../src/index.js';
import { PortableRng } from '../src/index.js';

/** Logits row with softmax probability `conf` on `token`, the rest spread evenly (mask excluded). */
export function rowWithConfidence(
  vocab: number,
  maskId: number,
  token: number,
  conf: number,
): number[] {
  const rest = (1 - conf) / (vocab - 2);
  return Array.from({ length: vocab }, (_, v) =>
    v === maskId ? -30 : v === token ? Math.log(conf) : Math.log(rest),
  );
}

/** Softmax probabilities of a logits row (float64). */
export function softmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((l) => Math.exp(l - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** Counts model calls; logits per position from a fixed table, independent of context. */
export interface TableModel extends MaskedDiffusionLmV1 {
  calls: number;
}

/**
 * A masked LM whose logits at position p are `table[p]` whatever the input
 * (or `uncond[p]` when the first token is masked, for CFG tests).
 */
export function tableModel(
  vocab: number,
  maskId: number,
  table: readonly (readonly number[])[],
  uncond?: readonly (readonly number[])[],
): TableModel {
  const model: TableModel = {
    specificationVersion: 'v1',
    vocabSize: vocab,
    maskId,
    calls: 0,
    forward(ids) {
      model.calls++;
      const [B, L] = ids.shape;
      const data = ids.arraySync();
      const out: number[][][] = [];
      for (let b = 0; b < B; b++) {
        const src = uncond !== undefined && data[b]![0] === maskId ? uncond : table;
        out.push(Array.from({ length: L }, (_, p) => [...src[p]!]));
      }
      return tf.tensor3d(out, [B, L, vocab]);
    },
  };
  return model;
}

/** An autoregressive model whose row j logits are `table[j]` whatever the input. */
export function tableAr(vocab: number, table: readonly (readonly number[])[]): AutoregressiveLmV1 {
  return {
    specificationVersion: 'v1',
    vocabSize: vocab,
    forward(ids) {
      const [B, L] = ids.shape;
      const out = Array.from({ length: B }, () =>
        Array.from({ length: L }, (_, p) => [...table[p]!]),
      );
      return tf.tensor3d(out, [B, L, vocab]);
    },
  };
}

/**
 * A one-layer attention model with K/V hooks whose K/V at a position depend
 * only on that position's token and index (seeded embeddings): every cache
 * (prefix, dual, delayed) is then exact, so cached decoding must equal
 * uncached decoding. Logits depend on the whole context through attention.
 */
export function attentionModel(
  vocab: number,
  maskId: number,
  length: number,
  seed = 1,
): TableModel & { queried: number[][] } {
  const d = 8;
  const rng = new PortableRng(seed);
  const mat = (r: number, c: number, s = 1) =>
    tf.keep(
      tf.tensor2d(
        Float32Array.from(rng.normals(r * c), (x) => x * s),
        [r, c],
      ),
    );
  const eq = mat(vocab, d);
  const ek = mat(vocab, d);
  const ev = mat(vocab, d);
  const pq = mat(length, d, 0.5);
  const pk = mat(length, d, 0.5);
  const pv = mat(length, d, 0.5);
  const wo = mat(d, vocab, 1.5);
  const bias = mat(length, vocab, 1.5);
  const maskBias = tf.tidy(() => tf.mul(tf.oneHot(tf.tensor1d([maskId], 'int32'), vocab), -30));

  function forwardWithKv(args: DlmPartialForward): DlmPartialOutput {
    return tf.tidy(() => {
      const [B, n] = args.ids.shape;
      const pos = tf.tensor1d(args.positions as number[], 'int32');
      const flat = tf.reshape(args.ids, [B * n]);
      const q = tf.add(tf.reshape(tf.gather(eq, flat), [B, n, d]), tf.gather(pq, pos));
      const k = tf.add(tf.reshape(tf.gather(ek, flat), [B, n, d]), tf.gather(pk, pos));
      const v = tf.add(tf.reshape(tf.gather(ev, flat), [B, n, d]), tf.gather(pv, pos));
      let keys = k;
      let values = v;
      if (args.context !== undefined) {
        const m = args.context.positions.length;
        keys = tf.concat([tf.reshape(args.context.keys[0]!, [B, m, d]), k], 1);
        values = tf.concat([tf.reshape(args.context.values[0]!, [B, m, d]), v], 1);
      }
      const att = tf.softmax(tf.div(tf.matMul(q, keys, false, true), Math.sqrt(d)));
      const h = tf.matMul(att, values);
      const logits = tf.add(
        tf.add(
          tf.reshape(tf.matMul(tf.reshape(h, [B * n, d]), wo), [B, n, vocab]),
          tf.gather(bias, pos),
        ),
        maskBias,
      ) as tf.Tensor3D;
      return {
        logits,
        keys: [tf.reshape(k, [B, n, 1, d]) as tf.Tensor4D],
        values: [tf.reshape(v, [B, n, 1, d]) as tf.Tensor4D],
      };
    });
  }

  const model: TableModel & { queried: number[][] } = {
    specificationVersion: 'v1',
    vocabSize: vocab,
    maskId,
    calls: 0,
    queried: [],
    forward(ids) {
      model.calls++;
      const positions = Array.from({ length: ids.shape[1] }, (_, i) => i);
      const out = forwardWithKv({ ids, positions });
      for (const t of [...out.keys, ...out.values]) t.dispose();
      return out.logits;
    },
    kv: {
      numLayers: 1,
      numKvHeads: 1,
      headDim: d,
      forwardWithKv(args) {
        model.calls++;
        model.queried.push([...args.positions]);
        return forwardWithKv(args);
      },
    },
  };
  return model;
}
