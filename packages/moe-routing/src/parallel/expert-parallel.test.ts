import { createInMemoryNetwork, uniformTopology } from '@plexus/collectives';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { MoeRoutingError } from '../errors.js';
import { dispatchDropless } from '../layer/dispatch.js';
import type { ExpertActivation, ExpertParams } from '../layer/experts.js';
import { expertForward } from '../layer/experts.js';
import { initMoEParams } from '../layer/moe.js';
import { createNoisyTopKRouter } from '../routers/noisy-top-k.js';
import { createTopKRouter } from '../routers/top-k.js';
import type { RouterV1 } from '../routers/types.js';
import { disposeRouting } from '../routers/types.js';
import { collectiveExchange } from './collective-exchange.js';
import { expertParallelForward } from './expert-parallel.js';
import { contiguousExpertPlacement } from './placement.js';

beforeAll(setupCpu);

const D = 6;
const E = 4;
const H = 5;

interface Case {
  worldSize: number;
  tokensPerRank: number[];
  activation: ExpertActivation;
  lowDim?: number;
  /** Ranks per host for HetuMoE's hierarchical all-to-all. */
  ranksPerHost?: number;
}

/** The single-process layer on all tokens: route, dropless dispatch, (BigMac) projections. */
function reference(
  router: RouterV1,
  activation: ExpertActivation,
  wg: tf.Tensor,
  experts: readonly ExpertParams[],
  x: tf.Tensor2D,
  descend?: tf.Tensor,
  ascend?: tf.Tensor,
): tf.Tensor2D {
  return tf.tidy(() => {
    const routing = router.route({ logits: tf.matMul(x, wg as tf.Tensor2D) as tf.Tensor2D });
    const h = descend ? (tf.matMul(x, descend as tf.Tensor2D) as tf.Tensor2D) : x;
    const width = h.shape[1];
    const out = dispatchDropless(
      h,
      routing,
      (e, rows) => expertForward(experts[e]!, activation, rows),
      width,
    );
    disposeRouting(routing);
    return ascend ? (tf.matMul(out, ascend as tf.Tensor2D) as tf.Tensor2D) : out;
  });
}

async function runCase({
  worldSize,
  tokensPerRank,
  activation,
  lowDim,
  ranksPerHost,
}: Case): Promise<void> {
  const start = tf.memory().numTensors;
  const router = createTopKRouter({ numExperts: E, k: 2 });
  const width = lowDim ?? D;
  const base = initMoEParams({ modelDim: width, hiddenDim: H, activation, router }, 3);
  const wg = tf.tensor2d(seededMatrix(D, E, 4), [D, E]);
  const descend = lowDim ? tf.tensor2d(seededMatrix(D, lowDim, 5, 0.5), [D, lowDim]) : undefined;
  const ascend = lowDim ? tf.tensor2d(seededMatrix(lowDim, D, 6, 0.5), [lowDim, D]) : undefined;
  const total = tokensPerRank.reduce((a, b) => a + b, 0);
  const xAll = tf.tensor2d(seededMatrix(total, D, 7), [total, D]);
  const dOutAll = tf.tensor2d(seededMatrix(total, D, 8), [total, D]);
  const placement = contiguousExpertPlacement(E, worldSize);
  const topology = ranksPerHost ? uniformTopology(worldSize, ranksPerHost) : undefined;
  const exchanges = createInMemoryNetwork(worldSize, topology ? { topology } : {}).endpoints.map(
    (p) => collectiveExchange(p, topology ? { hierarchical: topology } : {}),
  );

  const offsets = tokensPerRank.map((_, r) => tokensPerRank.slice(0, r).reduce((a, b) => a + b, 0));
  const results = await Promise.all(
    tokensPerRank.map(async (n, rank) => {
      const x = tf.slice(xAll, [offsets[rank]!, 0], [n, D]) as tf.Tensor2D;
      const dOut = tf.slice(dOutAll, [offsets[rank]!, 0], [n, D]) as tf.Tensor2D;
      const experts = new Map<number, ExpertParams>();
      placement.forEach((owner, e) => {
        if (owner === rank) experts.set(e, base.experts[e]!);
      });
      const step = await expertParallelForward(
        {
          modelDim: D,
          activation,
          router,
          rank,
          worldSize,
          placement,
          exchange: exchanges[rank]!,
          ...(lowDim ? { lowDim } : {}),
        },
        { routerWeight: wg, experts, ...(descend && ascend ? { descend, ascend } : {}) },
        x,
      );
      const grads = await step.backward(dOut);
      x.dispose();
      dOut.dispose();
      return { step, grads };
    }),
  );

  // Reference forward and gradients on the concatenated tokens.
  const wrt: tf.Tensor[] = [
    xAll,
    wg,
    ...base.experts.flatMap((p) => [
      p.w1,
      p.w2,
      ...(p.w3 ? [p.w3] : []),
      ...(p.b1 ? [p.b1, p.b2!] : []),
    ]),
  ];
  if (descend && ascend) wrt.push(descend, ascend);
  const refOut = reference(router, activation, wg, base.experts, xAll, descend, ascend);
  const refGrads = tf.grads((...args: tf.Tensor[]) => {
    const [xx, w, ...rest] = args;
    let i = 0;
    const experts = base.experts.map((p) => {
      const q: Record<string, tf.Tensor> = { w1: rest[i++]!, w2: rest[i++]! };
      if (p.w3) q.w3 = rest[i++]!;
      if (p.b1) {
        q.b1 = rest[i++]!;
        q.b2 = rest[i++]!;
      }
      return q as unknown as ExpertParams;
    });
    const d = descend ? rest[i++] : undefined;
    const a = ascend ? rest[i++] : undefined;
    const loss = tf.sum(
      tf.mul(reference(router, activation, w!, experts, xx as tf.Tensor2D, d, a), dOutAll),
    );
    // 0 · Σp keeps experts that received no token on the tape (their gradient is zero).
    return tf.add(loss, tf.mul(0, tf.addN(rest.map((t) => tf.sum(t)))));
  })(wrt);

  const refOutHost = refOut.dataSync();
  const refDx = refGrads[0]!.dataSync();
  const routerSum = new Float32Array(D * E);
  results.forEach(({ step, grads }, rank) => {
    const o = offsets[rank]! * D;
    const n = tokensPerRank[rank]! * D;
    expectArraysClose(step.output.dataSync(), refOutHost.subarray(o, o + n), 1e-5);
    expectArraysClose(grads.x.dataSync(), refDx.subarray(o, o + n), 1e-4);
    grads.routerWeight.dataSync().forEach((v, i) => {
      routerSum[i]! += v;
    });
  });
  expectArraysClose(routerSum, refGrads[1]!.dataSync(), 1e-4);
  // Expert gradients: each owner holds the complete gradient of its experts.
  let g = 2;
  base.experts.forEach((p, e) => {
    const owned = results[placement[e]!]!.grads.experts.get(e)!;
    for (const k of ['w1', 'w2', 'w3', 'b1', 'b2'] as const) {
      if (!p[k]) continue;
      expectArraysClose(owned[k]!.dataSync(), refGrads[g++]!.dataSync(), 1e-4);
    }
  });
  if (descend && ascend) {
    const sumOver = (pick: (r: (typeof results)[number]) => tf.Tensor) =>
      results.reduce(
        (acc, r) => acc.map((v, i) => v + pick(r).dataSync()[i]!),
        new Float32Array(pick(results[0]!).size),
      );
    expectArraysClose(
      sumOver((r) => r.grads.descend!),
      refGrads[g++]!.dataSync(),
      1e-4,
    );
    expectArraysClose(
      sumOver((r) => r.grads.ascend!),
      refGrads[g++]!.dataSync(),
      1e-4,
    );
  }

  for (const { step, grads } of results) {
    step.output.dispose();
    grads.x.dispose();
    grads.routerWeight.dispose();
    grads.descend?.dispose();
    grads.ascend?.dispose();
    for (const p of grads.experts.values())
      for (const t of Object.values(p)) (t as tf.Tensor).dispose();
  }
  for (const t of [refOut, ...refGrads, xAll, dOutAll, wg, descend, ascend]) t?.dispose();
  for (const p of base.experts) for (const t of Object.values(p)) (t as tf.Tensor).dispose();
  base.routerWeight.dispose();
  expect(tf.memory().numTensors).toBe(start);
}

describe('expert parallelism', () => {
  it('one rank equals the single-process layer', () =>
    runCase({ worldSize: 1, tokensPerRank: [7], activation: 'swiglu' }));
  it('two ranks, ragged token counts, SwiGLU experts', () =>
    runCase({ worldSize: 2, tokensPerRank: [5, 3], activation: 'swiglu' }));
  it('four ranks (one expert each), GELU experts, a rank with no tokens', () =>
    runCase({ worldSize: 4, tokensPerRank: [5, 0, 7, 4], activation: 'gelu' }));
  it('four ranks on two hosts, HetuMoE hierarchical all-to-all', () =>
    runCase({ worldSize: 4, tokensPerRank: [6, 3, 5, 4], activation: 'swiglu', ranksPerHost: 2 }));
  it('BigMac: descend, communicate r-wide vectors, ascend', () =>
    runCase({ worldSize: 2, tokensPerRank: [6, 5], activation: 'swiglu', lowDim: 3 }));

  it('BigMac sends r/D of the flat layer’s payload', async () => {
    const router = createTopKRouter({ numExperts: E, k: 2 });
    const traffic = async (lowDim?: number) => {
      const width = lowDim ?? D;
      const base = initMoEParams(
        { modelDim: width, hiddenDim: H, activation: 'swiglu', router },
        3,
      );
      const wg = tf.tensor2d(seededMatrix(D, E, 4), [D, E]);
      const descend = lowDim ? tf.randomNormal([D, lowDim], 0, 1, 'float32', 1) : undefined;
      const ascend = lowDim ? tf.randomNormal([lowDim, D], 0, 1, 'float32', 2) : undefined;
      const placement = contiguousExpertPlacement(E, 2);
      const net = createInMemoryNetwork(2);
      const exchanges = net.endpoints.map((p) => collectiveExchange(p));
      await Promise.all(
        [0, 1].map(async (rank) => {
          const x = tf.tensor2d(seededMatrix(8, D, 10 + rank), [8, D]);
          const experts = new Map(
            [...placement.entries()]
              .filter(([, r]) => r === rank)
              .map(([e]) => [e, base.experts[e]!]),
          );
          const step = await expertParallelForward(
            {
              modelDim: D,
              activation: 'swiglu',
              router,
              rank,
              worldSize: 2,
              placement,
              exchange: exchanges[rank]!,
              ...(lowDim ? { lowDim } : {}),
            },
            { routerWeight: wg, experts, ...(descend && ascend ? { descend, ascend } : {}) },
            x,
          );
          step.output.dispose();
          x.dispose();
        }),
      );
      for (const t of [wg, descend, ascend, base.routerWeight]) t?.dispose();
      for (const p of base.experts) for (const t of Object.values(p)) (t as tf.Tensor).dispose();
      return net.stats.bytes[0]![1]! + net.stats.bytes[1]![0]!;
    };
    const flat = await traffic();
    const bigmac = await traffic(2);
    // Dispatch rows carry one expert-id column besides the D (or r) values; combine rows do not.
    expect(flat).toBeGreaterThan(0);
    expect(bigmac / flat).toBeCloseTo((2 + 1 + 2) / (D + 1 + D), 5);
  });

  it('refuses a router that is not deterministic in training', async () => {
    const router = createNoisyTopKRouter({ numExperts: E, k: 2, seed: 1 });
    const exchanges = createInMemoryNetwork(1).endpoints.map((p) => collectiveExchange(p));
    const params = initMoEParams({ modelDim: D, hiddenDim: H, activation: 'swiglu', router }, 3);
    const x = tf.tensor2d(seededMatrix(4, D, 1), [4, D]);
    await expect(
      expertParallelForward(
        {
          modelDim: D,
          activation: 'swiglu',
          router,
          rank: 0,
          worldSize: 1,
          placement: new Int32Array(E),
          exchange: exchanges[0]!,
        },
        {
          routerWeight: params.routerWeight,
          experts: new Map(params.experts.map((p, e) => [e, p])),
        },
        x,
        { training: true },
      ),
    ).rejects.toThrow(MoeRoutingError);
    x.dispose();
  });

  it('rejects a placement naming a rank that does not exist', async () => {
    const router = createTopKRouter({ numExperts: E, k: 1 });
    const exchanges = createInMemoryNetwork(1).endpoints.map((p) => collectiveExchange(p));
    const x = tf.zeros([2, D]) as tf.Tensor2D;
    await expect(
      expertParallelForward(
        {
          modelDim: D,
          activation: 'swiglu',
          router,
          rank: 0,
          worldSize: 1,
          placement: Int32Array.from([0, 0, 1, 0]),
          exchange: exchanges[0]!,
        },
        { routerWeight: tf.zeros([D, E]), experts: new Map() },
        x,
      ),
    ).rejects.toThrow(/placement\[2\] = 1 is not a rank in \[0, 1\)/);
    x.dispose();
  });
});
