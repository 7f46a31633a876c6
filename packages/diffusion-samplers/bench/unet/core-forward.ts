// The U-Net's forward pass in tfjs-core ops over the same weights as the
// tfjs-layers model, for training on backends without a Conv2DBackpropFilter
// kernel (wasm): a 3x3 convolution is one matmul over the nine shifted
// copies of the padded input (im2col), whose gradients are slices and matmuls.
import * as tf from '@tensorflow/tfjs-core';
import { CONV_NAMES, type ConvName, type UNet } from './unet.js';

/** Trainable kernel `[3, 3, in, out]` and bias of each convolution. */
export type ConvParams = Record<ConvName, { kernel: tf.Variable; bias: tf.Variable }>;

/** Variables initialised from the layers model's current weights. */
export function paramsFrom(unet: UNet): ConvParams {
  return Object.fromEntries(
    CONV_NAMES.map((n) => {
      const [k, b] = unet.convs[n].getWeights();
      return [n, { kernel: tf.variable(k!), bias: tf.variable(b!) }];
    }),
  ) as ConvParams;
}

/** Copy trained variables back into the layers model. */
export function writeBack(unet: UNet, params: ConvParams): void {
  for (const n of CONV_NAMES) unet.convs[n].setWeights([params[n].kernel, params[n].bias]);
}

function conv(x: tf.Tensor4D, p: ConvParams[ConvName], relu = true): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const cout = p.bias.shape[0]!;
  const xp = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const cols: tf.Tensor4D[] = [];
  for (let dy = 0; dy < 3; dy++)
    for (let dx = 0; dx < 3; dx++) cols.push(tf.slice(xp, [0, dy, dx, 0], [n, h, w, c]));
  const patches = tf.reshape(tf.concat(cols, 3), [n * h * w, 9 * c]);
  const y = tf.add(tf.matMul(patches, tf.reshape(p.kernel, [9 * c, cout])), p.bias);
  const out = tf.reshape(y, [n, h, w, cout]) as tf.Tensor4D;
  return relu ? tf.relu(out) : out;
}

function pool2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [n, h / 2, 2, w / 2, 2, c]), [2, 4]) as tf.Tensor4D;
}

function up2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  // Concatenation, not tile: tfjs has no rank-6 tile gradient.
  let t = tf.reshape(x, [n, h, 1, w, 1, c]);
  t = tf.concat([t, t], 2);
  t = tf.concat([t, t], 4);
  return tf.reshape(t, [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
}

/** Epsilon prediction, the same function as `unet.full` (not tidied). */
export function coreForward(
  p: ConvParams,
  x: tf.Tensor4D,
  t16: tf.Tensor4D,
  t8: tf.Tensor4D,
): tf.Tensor4D {
  const h1 = conv(conv(tf.concat([x, t16], 3), p.e1a), p.e1b);
  const h2 = conv(tf.concat([pool2(conv(h1, p.e2down)), t8], 3), p.e2b);
  const m = conv(conv(tf.concat([h2, t8], 3), p.mida), p.midb);
  const u = conv(up2(conv(tf.concat([m, h2, t8], 3), p.d2a)), p.d2b);
  return conv(conv(tf.concat([u, h1, t16], 3), p.d1a), p.d1out, false);
}
