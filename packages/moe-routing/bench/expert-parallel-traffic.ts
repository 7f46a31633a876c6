import { createInMemoryNetwork, uniformTopology } from '@plexus/collectives';
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { initMoEParams } from '../src/layer/moe.js';
import { collectiveExchange } from '../src/parallel/collective-exchange.js';
import { expertParallelForward } from '../src/parallel/expert-parallel.js';
import { contiguousExpertPlacement } from '../src/parallel/placement.js';
import { createTopKRouter } from '../src/routers/top-k.js';

/** One row of the traffic table. */
export interface TrafficRow {
  readonly layout: string;
  /** All bytes on the wire (dispatch + combine, both directions), per token. */
  readonly bytesPerToken: number;
  /** Of those, bytes that crossed between the two hosts. */
  readonly interHostBytesPerToken: number;
  /** Messages that crossed between hosts in one forward pass. */
  readonly interHostMessages: number;
}

/**
 * All-to-all bytes moved per token by one expert-parallel MoE forward pass
 * at 4 simulated ranks on 2 hosts (8 experts, top-2, D = 512, 256 tokens
 * per rank): flat all-to-all, HetuMoE's hierarchical all-to-all, and BigMac
 * (r = D/8) on the flat exchange. Counted by the in-memory transport.
 */
export async function expertParallelTrafficBench(): Promise<TrafficRow[]> {
  await initBackend({ backend: 'cpu' });
  const D = 512;
  const E = 8;
  const tokens = 256;
  const world = 4;
  const router = createTopKRouter({ numExperts: E, k: 2 });
  const placement = contiguousExpertPlacement(E, world);
  const topology = uniformTopology(world, 2);
  const rng = new SeededRandom(5);
  const wg = tf.tensor2d(rng.fillNormal(new Float32Array(D * E)), [D, E]);
  const xs = Array.from({ length: world }, () =>
    tf.tensor2d(rng.fillNormal(new Float32Array(tokens * D)), [tokens, D]),
  );
  const layouts: { layout: string; lowDim?: number; hierarchical: boolean }[] = [
    { layout: 'flat all-to-all', hierarchical: false },
    { layout: 'hierarchical all-to-all (HetuMoE)', hierarchical: true },
    { layout: `BigMac, r = ${D / 8}, flat`, lowDim: D / 8, hierarchical: false },
  ];
  const rows: TrafficRow[] = [];
  for (const { layout, lowDim, hierarchical } of layouts) {
    const width = lowDim ?? D;
    const base = initMoEParams(
      { modelDim: width, hiddenDim: 2 * width, activation: 'swiglu', router },
      1,
    );
    const descend = lowDim ? tf.randomNormal([D, lowDim]) : undefined;
    const ascend = lowDim ? tf.randomNormal([lowDim, D]) : undefined;
    const net = createInMemoryNetwork(world, { topology });
    await Promise.all(
      net.endpoints.map(async (p, rank) => {
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
            worldSize: world,
            placement,
            exchange: collectiveExchange(p, hierarchical ? { hierarchical: topology } : {}),
            ...(lowDim ? { lowDim } : {}),
          },
          { routerWeight: wg, experts, ...(descend && ascend ? { descend, ascend } : {}) },
          xs[rank]!,
        );
        step.output.dispose();
      }),
    );
    const total = world * tokens;
    const all = net.stats.interHostBytes + net.stats.intraHostBytes;
    rows.push({
      layout,
      bytesPerToken: all / total,
      interHostBytesPerToken: net.stats.interHostBytes / total,
      interHostMessages: net.stats.interHostMessages,
    });
    for (const t of [
      descend,
      ascend,
      base.routerWeight,
      ...base.experts.flatMap((e) => Object.values(e) as tf.Tensor[]),
    ])
      t?.dispose();
  }
  for (const t of [wg, ...xs]) t.dispose();
  return rows;
}
