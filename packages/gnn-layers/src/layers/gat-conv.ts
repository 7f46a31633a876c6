import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, segmentSoftmax, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix, aggregationRowIds } from '../graph-operators.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { type LayerInput, project } from './input.js';
import type { ApplyContext, GnnLayerV1 } from './layer.js';

/** Options of {@link createGatConv}. */
export interface GatConvOptions {
  /** Attention heads (default 1). */
  readonly heads?: number;
  /** Concatenate the heads (default true) or average them (output layers). */
  readonly concat?: boolean;
  /** LeakyReLU slope of the attention logits (default 0.2). */
  readonly negativeSlope?: number;
  /** Dropout on the attention coefficients while training (default 0). */
  readonly attentionDropout?: number;
  /** GATv2's attention (`a · LeakyReLU(W_s h_j + W_t h_i)`) instead of GAT's. */
  readonly v2?: boolean;
  readonly seed?: number;
}

/**
 * Graph attention ("Graph Attention Networks", Veličković et al., 2018) and
 * its dynamic-attention variant GATv2 ("How Attentive are Graph Attention
 * Networks?", Brody et al., 2022). Attention runs over each node's incoming
 * arcs plus a self loop; coefficients are normalised with a segment softmax
 * and applied with one weighted spmm per head, so no `[E, F]` message matrix
 * is built for GAT (GATv2's logits need `[E, H·C]`, as in the paper).
 */
export function createGatConv(
  inFeatures: number,
  outPerHead: number,
  options: GatConvOptions = {},
): GnnLayerV1 {
  const heads = options.heads ?? 1;
  checkPositive('gat', 'inFeatures', inFeatures);
  checkPositive('gat', 'outPerHead', outPerHead);
  checkPositive('gat', 'heads', heads);
  const concat = options.concat ?? true;
  const slope = options.negativeSlope ?? 0.2;
  const dropout = options.attentionDropout ?? 0;
  const v2 = options.v2 === true;
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName(v2 ? 'gatv2' : 'gat');
  const hc = heads * outPerHead;
  const wSrc = glorotUniform(rng, inFeatures, hc, `${name}_w`);
  // GATv2 transforms source and target separately; GAT shares one W.
  const wDst = v2 ? glorotUniform(rng, inFeatures, hc, `${name}_wdst`) : undefined;
  const attSrc = glorotUniform(rng, heads, outPerHead, `${name}_att_src`);
  const attDst = v2 ? undefined : glorotUniform(rng, heads, outPerHead, `${name}_att_dst`);
  const outFeatures = concat ? hc : outPerHead;
  const bias = zerosVariable(outFeatures, `${name}_b`);
  const variables = [wSrc, wDst, attSrc, attDst, bias].filter(
    (v): v is tf.Variable => v !== undefined,
  );
  return {
    specificationVersion: 'v1',
    kind: v2 ? 'gatv2' : 'gat',
    inFeatures,
    outFeatures,
    variables,
    apply(graph: CsrGraph, x: LayerInput, ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput(v2 ? 'gatv2' : 'gat', graph, x, inFeatures);
      const a = aggregationMatrix(graph, 'sumSelfLoops');
      const rows = aggregationRowIds(graph, 'sumSelfLoops');
      const cols = a.tensors.get().indices;
      const n = graph.numNodes;
      const z = project(x, wSrc);
      let logits: tf.Tensor2D;
      if (v2) {
        const zDst = project(x, wDst!);
        const e = tf.leakyRelu(tf.add(tf.gather(z, cols), tf.gather(zDst, rows)), slope);
        const per = tf.reshape(e, [-1, heads, outPerHead]);
        logits = tf.sum(tf.mul(per, attSrc), 2) as tf.Tensor2D;
      } else {
        const z3 = tf.reshape(z, [n, heads, outPerHead]);
        const sSrc = tf.sum(tf.mul(z3, attSrc), 2);
        const sDst = tf.sum(tf.mul(z3, attDst as tf.Tensor), 2);
        logits = tf.leakyRelu(
          tf.add(tf.gather(sSrc, cols), tf.gather(sDst, rows)),
          slope,
        ) as tf.Tensor2D;
      }
      let alpha = segmentSoftmax(logits, rows, n);
      if (ctx.training && dropout > 0)
        alpha = tf.dropout(alpha, dropout, undefined, ctx.nextSeed()) as tf.Tensor2D;
      const perHead: tf.Tensor2D[] = [];
      for (let h = 0; h < heads; h++) {
        const zh = heads === 1 ? z : tf.slice(z, [0, h * outPerHead], [n, outPerHead]);
        const ah =
          heads === 1
            ? tf.reshape(alpha, [-1])
            : tf.reshape(tf.slice(alpha, [0, h], [-1, 1]), [-1]);
        perHead.push(spmm(a, zh as tf.Tensor2D, { weights: ah as tf.Tensor1D }));
      }
      const combined =
        heads === 1
          ? perHead[0]!
          : concat
            ? tf.concat(perHead, 1)
            : tf.div(tf.addN(perHead), heads);
      return tf.add(combined, bias) as tf.Tensor2D;
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
