import { disposeInput } from '@plexus/gnn-layers';
import { loadDataset } from '@plexus/graph-core';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGnnOptions } from '../src/commands/gnn-options.js';
import { featuresWithEncoding } from '../src/commands/positional-encoding.js';

describe('plexus-train gnn --pe', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('appends each encoding as extra columns after the row-normalised features', () => {
    const ds = loadDataset('cora');
    for (const [kind, extra] of [
      ['lap', 4],
      ['rwpe', 4],
      ['rfp', 20],
    ] as const) {
      const { input, width } = featuresWithEncoding(ds.graph, kind, 4, 0);
      expect(width).toBe(ds.numFeatures + extra);
      const x = input as tf.Tensor2D;
      expect(x.shape).toEqual([ds.graph.numNodes, ds.numFeatures + extra]);
      // The feature block is row-normalised: each row of Cora's bag of words sums to 1.
      const rowSum = tf.tidy(
        () => tf.sum(tf.slice(x, [0, 0], [5, ds.numFeatures]), 1).arraySync() as number[],
      );
      for (const s of rowSum) expect(s).toBeCloseTo(1, 5);
      disposeInput(input);
    }
  });

  it('parses --pe and --pe-dim and rejects unknown encodings', () => {
    expect(parseGnnOptions(['--pe', 'lap', '--pe-dim', '16'])).toMatchObject({
      pe: 'lap',
      peDim: 16,
    });
    expect(parseGnnOptions([])).toMatchObject({ pe: 'none', peDim: 8 });
    expect(() => parseGnnOptions(['--pe', 'spectral'])).toThrow(
      /--pe 'spectral' is not known; accepted: none, lap, rwpe, rfp/,
    );
  });
});
