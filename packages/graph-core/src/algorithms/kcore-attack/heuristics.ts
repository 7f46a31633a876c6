import type { CsrGraph } from '../../csr/csr-graph.js';
import { Rng } from '../../random/rng.js';
import { checkKCoreInput } from './kcore.js';
import { refineAttackSet } from './refine.js';
import { ShrinkingKCore } from './state.js';
import type { KCoreAttackOptions, KCoreAttackResult } from './types.js';

/**
 * CoreHD for the K-core attack problem (Zdeborová, Zhang & Zhou, "Fast and
 * simple decycling and dismantling of networks", Sci. Rep. 2016, where K = 2
 * gives decycling): repeatedly delete a vertex of maximum degree *inside the
 * current K-core* (ties broken uniformly at random), re-prune to the K-core,
 * until it is empty. O(n) per step here (a scan), which is fine for n ≲ 10^5.
 */
export function coreHdAttack(
  graph: CsrGraph,
  k: number,
  options: KCoreAttackOptions = {},
): KCoreAttackResult {
  return greedyAttack(graph, k, options, 'core');
}

/**
 * Adaptive high-degree attack: repeatedly delete the K-core vertex with the
 * most surviving neighbours *in the whole remaining graph* (recomputed after
 * every deletion; pruned vertices still count), until the K-core is empty.
 * Differs from CoreHD only in which degree ranks the candidates; choosing
 * outside the K-core would be wasted, so candidates are always core vertices.
 */
export function adaptiveHighDegreeAttack(
  graph: CsrGraph,
  k: number,
  options: KCoreAttackOptions = {},
): KCoreAttackResult {
  return greedyAttack(graph, k, options, 'full');
}

function greedyAttack(
  graph: CsrGraph,
  k: number,
  options: KCoreAttackOptions,
  degree: 'core' | 'full',
): KCoreAttackResult {
  checkKCoreInput(graph, k);
  const rng = new Rng(options.seed ?? 0);
  const state = new ShrinkingKCore(graph, k);
  const initialCoreSize = state.size;
  const deg = degree === 'core' ? state.coreDeg : state.fullDeg;
  const chosen: number[] = [];
  const n = graph.numNodes;
  while (state.size > 0) {
    let best = -1;
    let bestDeg = -1;
    let ties = 0;
    for (let u = 0; u < n; u++) {
      if (state.inCore[u] === 0) continue;
      const d = deg[u]!;
      if (d > bestDeg) {
        bestDeg = d;
        best = u;
        ties = 1;
      } else if (d === bestDeg && rng.nextInt(++ties) === 0) {
        best = u; // reservoir sampling: uniform among the tied maxima
      }
    }
    chosen.push(best);
    state.remove(best);
  }
  let attackSet: Int32Array = Int32Array.from(chosen);
  if (options.refine === true) attackSet = refineAttackSet(graph, k, attackSet, rng);
  return { attackSet, fraction: n === 0 ? 0 : attackSet.length / n, initialCoreSize };
}
