// Cached decoding (Fast-dLLM prefix / dual cache, dKV-Cache delayed caching
// on @plexus/kv-cache) equals uncached decoding when a position's K/V depend
// only on its own token, and each cache computes exactly the positions its
// rule says.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLowConfidenceDecoder,
  createThresholdDecoder,
  type DlmCacheMode,
  type DlmDecoderV1,
  type DlmStepTrace,
} from '../src/index.js';
import { attentionModel } from './dlm-oracle.js';
import { cpuBackend } from './setup.js';

const V = 7;
const MASK = 6;
const P = 3;
const G = 12;
const L = P + G;
const prompts = [
  [0, 1, 2],
  [3, 4, 5],
];

beforeAll(cpuBackend);

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('cached decoders equal uncached ones', () => {
  it('the oracle attends: logits at a position change with other tokens', async () => {
    const model = attentionModel(V, MASK, L);
    const a = tf.tensor2d([[0, 1, 2, ...new Array(G).fill(MASK)]], [1, L], 'int32');
    const b = tf.tensor2d([[0, 1, 2, 4, ...new Array(G - 1).fill(MASK)]], [1, L], 'int32');
    const la = model.forward(a) as tf.Tensor;
    const lb = model.forward(b) as tf.Tensor;
    const diff = tf.tidy(
      () =>
        tf
          .max(
            tf.abs(tf.sub(tf.slice(la, [0, 8, 0], [1, 1, V]), tf.slice(lb, [0, 8, 0], [1, 1, V]))),
          )
          .dataSync()[0]!,
    );
    expect(diff).toBeGreaterThan(1e-2);
    tf.dispose([a, b, la, lb]);
  });

  const configs: [string, (cache: DlmCacheMode, refresh?: number) => DlmDecoderV1][] = [
    [
      'low-confidence, 3 blocks',
      (cache, r) =>
        createLowConfidenceDecoder({ steps: 12, blockLength: 4, cache, refreshInterval: r }),
    ],
    [
      'low-confidence, 1 block, 2 per step',
      (cache, r) => createLowConfidenceDecoder({ steps: 6, cache, refreshInterval: r }),
    ],
    [
      'threshold 0.5, 2 blocks',
      (cache, r) =>
        createThresholdDecoder({ threshold: 0.5, blockLength: 6, cache, refreshInterval: r }),
    ],
    [
      'threshold 0.9, 3 blocks',
      (cache, r) =>
        createThresholdDecoder({ threshold: 0.9, blockLength: 4, cache, refreshInterval: r }),
    ],
  ];

  it.each(configs)('%s', async (_, make) => {
    const model = attentionModel(V, MASK, L, 5);
    const base = await make('none').decode({ model, prompt: prompts, genLength: G });
    for (const [mode, refresh] of [
      ['prefix', undefined],
      ['dual', undefined],
      ['delayed', undefined],
      ['delayed', 3],
    ] as const) {
      const before = tf.memory().numTensors;
      const res = await make(mode, refresh).decode({ model, prompt: prompts, genLength: G });
      expect(tf.memory().numTensors).toBe(before);
      expect(res.tokens.map((r) => Array.from(r))).toEqual(base.tokens.map((r) => Array.from(r)));
      expect(res.positionsComputed).toBeLessThan(base.positionsComputed);
    }
  });
});

describe('which positions each cache computes', () => {
  async function trace(cache: DlmCacheMode, refresh?: number, batch = 1) {
    const model = attentionModel(V, MASK, L, 9);
    const traces: DlmStepTrace[] = [];
    await createThresholdDecoder({
      threshold: 0.6,
      blockLength: 4,
      cache,
      refreshInterval: refresh,
    }).decode({
      model,
      prompt: prompts.slice(0, batch),
      genLength: G,
      onStep: (t) => traces.push(t),
    });
    return { traces, queried: model.queried };
  }

  it('prefix cache: full pass at each block start, then the block and the suffix', async () => {
    const { traces, queried } = await trace('prefix');
    expect(queried).toEqual(traces.map((t) => t.queried));
    for (const t of traces) {
      const s = P + 4 * t.block;
      expect(t.full).toBe(t.step === 0);
      expect(t.queried).toEqual(t.step === 0 ? range(0, L) : range(s, L));
    }
    expect(traces.some((t) => t.step > 0)).toBe(true);
  });

  it('dual cache: full pass at each block start, then only the block', async () => {
    const { traces } = await trace('dual');
    for (const t of traces) {
      const s = P + 4 * t.block;
      expect(t.queried).toEqual(t.step === 0 ? range(0, L) : range(s, s + 4));
    }
  });

  it.each([undefined, 3])(
    'delayed cache (refresh %s): a token is recomputed on the step after it is decoded, then cached',
    async (refresh) => {
      const { traces } = await trace('delayed', refresh);
      const decodedAt = new Map<number, number>();
      traces.forEach((t, k) => {
        const full = k === 0 || (refresh !== undefined && k % refresh === 0);
        expect(t.full).toBe(full);
        if (full) expect(t.queried).toEqual(range(0, L));
        else {
          const masked = range(P, L).filter((p) => !decodedAt.has(p));
          const fresh = [...decodedAt].filter(([, at]) => at === k - 1).map(([p]) => p);
          expect(t.queried).toEqual([...masked, ...fresh].sort((a, b) => a - b));
        }
        for (const p of t.unmasked[0]!) decodedAt.set(p, k);
      });
      expect(traces.length).toBeGreaterThan(4);
    },
  );

  it("delayed cache with a batch queries the union of the rows' uncached positions", async () => {
    const one = await trace('delayed', undefined, 2);
    expect(one.traces.length).toBeGreaterThan(1);
    for (const t of one.traces) expect(t.queried.length).toBeGreaterThan(0);
  });
});
