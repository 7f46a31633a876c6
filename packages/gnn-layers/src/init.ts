import type { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Glorot/Xavier uniform initialisation ("Understanding the difficulty of
 * training deep feedforward neural networks", 2010), as GCN and GAT use.
 */
export function glorotUniform(
  rng: SeededRandom,
  fanIn: number,
  fanOut: number,
  name: string,
): tf.Variable {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = rng.fillUniform(new Float32Array(fanIn * fanOut), -limit, limit);
  return variableFrom(tf.tensor2d(values, [fanIn, fanOut]), name);
}

/**
 * A trainable variable initialised from `init`, which is then disposed:
 * `tf.variable` keeps its own reference, so the initial tensor would leak.
 */
export function variableFrom(init: tf.Tensor, name: string, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable, name);
  init.dispose();
  return v;
}

/** A trainable zero vector (biases). */
export function zerosVariable(size: number, name: string): tf.Variable {
  return variableFrom(tf.zeros([size]), name);
}

let nextId = 0;
/** A unique variable name prefix (tfjs requires globally unique variable names). */
export function uniqueName(prefix: string): string {
  nextId++;
  return `${prefix}_${nextId}`;
}
