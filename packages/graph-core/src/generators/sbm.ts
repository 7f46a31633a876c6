import { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { checkInt, checkProb } from './check.js';
import { EdgeBuffer } from './edge-buffer.js';
import { geometricSkip, type SeedOptions } from './random-graphs.js';

/** A stochastic block model sample. */
export interface SbmResult {
  /** The graph; `labels` holds the block of each node. */
  readonly graph: CsrGraph;
  /** Block id of each node (nodes of block b are contiguous). */
  readonly blocks: Int32Array;
}

/**
 * Undirected edges between blocks `sizes` where a pair in blocks (a, b) is an
 * edge with probability `prob(a, b)`; each block pair is sampled in
 * O(pairs kept) by geometric skipping.
 */
function sampleBlocks(
  sizes: readonly number[],
  prob: (a: number, b: number) => number,
  rng: Rng,
): SbmResult {
  const offsets = [0];
  for (const s of sizes) offsets.push(offsets[offsets.length - 1]! + s);
  const n = offsets[sizes.length]!;
  const blocks = new Int32Array(n);
  sizes.forEach((s, b) => {
    blocks.fill(b, offsets[b]!, offsets[b]! + s);
  });
  const buf = new EdgeBuffer();
  for (let a = 0; a < sizes.length; a++) {
    const oa = offsets[a]!;
    const sa = sizes[a]!;
    for (let b = a; b < sizes.length; b++) {
      const p = prob(a, b);
      checkProb(`p[${a}][${b}]`, p);
      const ob = offsets[b]!;
      const sb = sizes[b]!;
      if (a === b) {
        let v = 1;
        let rowStart = 0;
        geometricSkip((sa * (sa - 1)) / 2, p, rng, (i) => {
          while (i >= rowStart + v) {
            rowStart += v;
            v++;
          }
          buf.push(oa + v, oa + i - rowStart);
        });
      } else {
        geometricSkip(sa * sb, p, rng, (i) => {
          const u = Math.floor(i / sb);
          buf.push(oa + u, ob + (i - u * sb));
        });
      }
    }
  }
  const { src, dst } = buf.edges();
  return { graph: CsrGraph.fromEdges(n, src, dst).withLabels(blocks), blocks };
}

/**
 * Stochastic block model (Holland, Laskey & Leinhardt, "Stochastic
 * blockmodels: First steps", 1983): `sizes[b]` nodes per block, undirected
 * edge between blocks a and b with probability `probs[a][b]` (symmetric).
 */
export function stochasticBlockModel(
  sizes: readonly number[],
  probs: readonly (readonly number[])[],
  options: SeedOptions = {},
): SbmResult {
  for (const [i, s] of sizes.entries()) checkInt(`sizes[${i}]`, s, 0);
  if (probs.length !== sizes.length || probs.some((row) => row.length !== sizes.length)) {
    throw new GraphCoreError(
      'generators',
      `probs must be a ${sizes.length}×${sizes.length} matrix`,
    );
  }
  for (let a = 0; a < sizes.length; a++) {
    for (let b = 0; b < a; b++) {
      if (probs[a]![b] !== probs[b]![a]) {
        throw new GraphCoreError(
          'generators',
          `probs must be symmetric: p[${a}][${b}] != p[${b}][${a}]`,
        );
      }
    }
  }
  return sampleBlocks(sizes, (a, b) => probs[a]![b]!, new Rng(options.seed ?? 0));
}

/** Options of {@link hierarchicalSbm}. */
export interface HierarchicalSbmOptions extends SeedOptions {
  /** Children per community at each level, top first, e.g. `[2, 3]` = 2 groups of 3 leaf blocks. */
  readonly branching: readonly number[];
  /** Nodes per leaf block. */
  readonly leafSize: number;
  /**
   * Edge probability by depth of the deepest common community:
   * `p[0]` across top-level groups, …, `p[branching.length]` inside one leaf block.
   */
  readonly p: readonly number[];
}

/** A hierarchical SBM sample with its ground-truth hierarchy. */
export interface HierarchicalSbmResult extends SbmResult {
  /** `levels[l][u]` is node u's community at depth `l + 1` (last = leaf block). */
  readonly levels: readonly Int32Array[];
  /** `parents[l][c]` is the parent (depth `l`) of community c at depth `l + 1`; depth-1 parents are 0. */
  readonly parents: readonly Int32Array[];
}

/**
 * Hierarchical stochastic block model (nested SBM, Peixoto, "Hierarchical
 * block structures and high-resolution model selection in large networks",
 * PRX 2014, in its simplest planted form): the edge probability of a pair
 * depends only on how deep their lowest common community is.
 */
export function hierarchicalSbm(options: HierarchicalSbmOptions): HierarchicalSbmResult {
  const { branching, leafSize, p } = options;
  for (const [i, b] of branching.entries()) checkInt(`branching[${i}]`, b, 1);
  checkInt('leafSize', leafSize, 0);
  if (p.length !== branching.length + 1) {
    throw new GraphCoreError(
      'generators',
      `p needs branching.length + 1 = ${branching.length + 1} entries, got ${p.length}`,
    );
  }
  const depth = branching.length;
  // leavesBelow[l] = leaf blocks under one community at depth l (depth 0 = the root).
  const leavesBelow = new Array<number>(depth + 1).fill(1);
  for (let l = depth - 1; l >= 0; l--) leavesBelow[l] = leavesBelow[l + 1]! * branching[l]!;
  const numLeaves = leavesBelow[0]!;
  const sizes = new Array<number>(numLeaves).fill(leafSize);
  const lcaDepth = (a: number, b: number): number => {
    let l = depth;
    while (l > 0 && Math.floor(a / leavesBelow[l]!) !== Math.floor(b / leavesBelow[l]!)) l--;
    return l;
  };
  const res = sampleBlocks(sizes, (a, b) => p[lcaDepth(a, b)]!, new Rng(options.seed ?? 0));
  const levels: Int32Array[] = [];
  const parents: Int32Array[] = [];
  for (let l = 1; l <= depth; l++) {
    levels.push(Int32Array.from(res.blocks, (leaf) => Math.floor(leaf / leavesBelow[l]!)));
    const count = numLeaves / leavesBelow[l]!;
    parents.push(Int32Array.from({ length: count }, (_, c) => Math.floor(c / branching[l - 1]!)));
  }
  return { ...res, levels, parents };
}
