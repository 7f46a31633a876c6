// A small conv + self-attention epsilon network written as a PatchDenoiser,
// with seeded weights: 3x3 convolutions read their halo rows from the
// (displaced) full activation, attention reads every pixel's keys and values.
import * as tf from '@tensorflow/tfjs-core';
import { type PatchContextV1, type PatchDenoiser, PortableRng } from '../src/index.js';

/** Shape of {@link convAttentionNet}. */
export interface NetShape {
  channels: number;
  features: number;
  attention: number;
}

function weights(rng: PortableRng, shape: number[], fanIn: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from(rng.normals(n), (v) => v / Math.sqrt(fanIn)),
    shape,
  );
}

/** 3x3 'same' convolution of this patch, with halo rows taken from `full`. */
function haloConv(full: tf.Tensor, ctx: PatchContextV1, w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const lo = Math.max(0, ctx.rowStart - 1);
    const hi = Math.min(ctx.rows, ctx.rowEnd + 1);
    const rows = tf.slice(full, [0, lo, 0, 0], [-1, hi - lo, -1, -1]);
    const top = ctx.rowStart === 0 ? 1 : 0;
    const bottom = ctx.rowEnd === ctx.rows ? 1 : 0;
    const padded = tf.pad(rows, [
      [0, 0],
      [top, bottom],
      [1, 1],
      [0, 0],
    ]);
    return tf.conv2d(padded as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
  });
}

/**
 * The network; `dispose()` frees its weights. Latents are `[batch, rows,
 * cols, channels]`.
 */
export function convAttentionNet(
  shape: NetShape,
  seed = 7,
): { net: PatchDenoiser; dispose(): void } {
  const { channels: c, features: f, attention: a } = shape;
  const rng = new PortableRng(seed);
  const w1 = weights(rng, [3, 3, c, f], 9 * c);
  const w2 = weights(rng, [3, 3, f, f], 9 * f);
  const wq = weights(rng, [f, a], f);
  const wkv = weights(rng, [f, 2 * a], f);
  const wo = weights(rng, [a, f], a);
  const w3 = weights(rng, [3, 3, f, c], 9 * f);
  const freq = Float32Array.from(rng.normals(f), (v) => v * 0.01);
  const all = [w1, w2, wq, wkv, wo, w3];

  const net: PatchDenoiser = async (x, t, _cond, _info, ctx) => {
    const [batch, h, cols] = x.shape as [number, number, number, number];
    const xFull = await ctx.exchange('x', x);
    const h1 = tf.tidy(() => {
      const temb = tf.sin(tf.mul(tf.tensor1d(freq), t));
      return tf.relu(tf.add(haloConv(xFull, ctx, w1), temb));
    });
    xFull.dispose();
    const h1Full = await ctx.exchange('h1', h1);
    const h2 = tf.tidy(() => tf.relu(haloConv(h1Full, ctx, w2)));
    h1.dispose();
    h1Full.dispose();
    const kv = tf.tidy(() =>
      tf.reshape(tf.matMul(tf.reshape(h2, [-1, f]), wkv), [batch, h, cols, 2 * a]),
    );
    const kvFull = await ctx.exchange('kv', kv);
    kv.dispose();
    const h3 = tf.tidy(() => {
      const q = tf.reshape(tf.matMul(tf.reshape(h2, [-1, f]), wq), [batch, h * cols, a]);
      const kvAll = tf.reshape(kvFull, [batch, -1, 2 * a]);
      const [k, v] = tf.split(kvAll, 2, 2) as [tf.Tensor3D, tf.Tensor3D];
      const scores = tf.softmax(tf.div(tf.matMul(q as tf.Tensor3D, k, false, true), Math.sqrt(a)));
      const att = tf.matMul(scores, v);
      const proj = tf.reshape(tf.matMul(tf.reshape(att, [-1, a]), wo), [batch, h, cols, f]);
      return tf.add(h2, proj);
    });
    kvFull.dispose();
    h2.dispose();
    const h3Full = await ctx.exchange('h3', h3);
    h3.dispose();
    const out = tf.tidy(() => tf.add(tf.mul(haloConv(h3Full, ctx, w3), 0.5), tf.mul(x, 0.5)));
    h3Full.dispose();
    return out;
  };
  return {
    net,
    dispose() {
      for (const w of all) w.dispose();
    },
  };
}
