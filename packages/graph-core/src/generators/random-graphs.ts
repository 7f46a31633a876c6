import { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { checkInt, checkProb } from './check.js';
import { EdgeBuffer } from './edge-buffer.js';

/** Seed option shared by all generators. */
export interface SeedOptions {
  /** PRNG seed (default 0); same seed, same graph. */
  readonly seed?: number;
}

/**
 * Visit the indices `0..total-1` kept independently with probability `p`, in
 * increasing order, by drawing geometric gaps (Batagelj & Brandes, "Efficient
 * generation of large random networks", Phys. Rev. E 2005): O(kept) work
 * instead of O(total).
 */
export function geometricSkip(
  total: number,
  p: number,
  rng: Rng,
  visit: (i: number) => void,
): void {
  if (p <= 0 || total <= 0) return;
  if (p >= 1) {
    for (let i = 0; i < total; i++) visit(i);
    return;
  }
  const lp = Math.log1p(-p);
  let i = -1;
  for (;;) {
    i += 1 + Math.floor(Math.log1p(-rng.next()) / lp);
    if (i >= total) return;
    visit(i);
  }
}

/**
 * Erdős–Rényi G(n, p) in O(n + m) with geometric skipping (Batagelj & Brandes
 * 2005). Undirected by default; no self loops.
 */
export function erdosRenyi(
  n: number,
  p: number,
  options: SeedOptions & { directed?: boolean } = {},
): CsrGraph {
  checkInt('n', n, 0);
  checkProb('p', p);
  const rng = new Rng(options.seed ?? 0);
  const directed = options.directed ?? false;
  const buf = new EdgeBuffer(Math.min(1 << 26, Math.ceil(p * n * n * 0.5 * 1.1) + 16));
  if (directed) {
    // Pair index i over all n(n-1) ordered pairs without the diagonal.
    geometricSkip(n * (n - 1), p, rng, (i) => {
      const u = Math.floor(i / (n - 1));
      const r = i - u * (n - 1);
      buf.push(u, r >= u ? r + 1 : r);
    });
  } else {
    // Pair index i over the lower triangle: row v holds pairs (v, 0..v-1).
    let v = 1;
    let rowStart = 0;
    geometricSkip((n * (n - 1)) / 2, p, rng, (i) => {
      while (i >= rowStart + v) {
        rowStart += v;
        v++;
      }
      buf.push(v, i - rowStart);
    });
  }
  const { src, dst } = buf.edges();
  return CsrGraph.fromEdges(n, src, dst, { directed });
}

/**
 * Barabási–Albert preferential attachment ("Emergence of scaling in random
 * networks", Science 1999) with networkx's conventions: start from a star on
 * `m + 1` nodes, then each new node links to `m` distinct existing nodes drawn
 * proportionally to degree (a list with one entry per edge endpoint makes the
 * draw O(1)). `m + (n - m - 1)·m` undirected edges.
 */
export function barabasiAlbert(n: number, m: number, options: SeedOptions = {}): CsrGraph {
  checkInt('m', m, 1);
  checkInt('n', n, m + 1);
  const rng = new Rng(options.seed ?? 0);
  const numEdges = m + (n - m - 1) * m;
  const src = new Int32Array(numEdges);
  const dst = new Int32Array(numEdges);
  const repeated = new Int32Array(2 * numEdges);
  let e = 0;
  let r = 0;
  for (let v = 1; v <= m; v++) {
    src[e] = 0;
    dst[e++] = v;
    repeated[r++] = 0;
    repeated[r++] = v;
  }
  const targets = new Int32Array(m);
  const mark = new Int32Array(n).fill(-1);
  for (let s = m + 1; s < n; s++) {
    let k = 0;
    while (k < m) {
      const t = repeated[rng.nextInt(r)]!;
      if (mark[t] === s) continue;
      mark[t] = s;
      targets[k++] = t;
    }
    for (let j = 0; j < m; j++) {
      const t = targets[j]!;
      src[e] = s;
      dst[e++] = t;
      repeated[r++] = t;
      repeated[r++] = s;
    }
  }
  return CsrGraph.fromEdges(n, src, dst);
}

/**
 * Uniform-ish random d-regular simple graph by the pairing (configuration)
 * model with Steger & Wormald's repair ("Generating random regular graphs
 * quickly", 1999), as networkx does: pair shuffled stubs, keep valid pairs,
 * re-pair the rest, restart when stuck (up to `maxTries` times).
 */
export function randomRegular(
  n: number,
  d: number,
  options: SeedOptions & { maxTries?: number } = {},
): CsrGraph {
  checkInt('n', n, 0);
  checkInt('d', d, 0, Math.max(0, n - 1));
  if ((n * d) % 2 !== 0)
    throw new GraphCoreError('generators', `n * d must be even, got n=${n}, d=${d}`);
  const rng = new Rng(options.seed ?? 0);
  const maxTries = options.maxTries ?? 100;
  for (let attempt = 0; attempt < maxTries; attempt++) {
    const edges = tryRegular(n, d, rng);
    if (edges !== undefined) return CsrGraph.fromEdges(n, edges.src, edges.dst);
  }
  throw new GraphCoreError(
    'generators',
    `no ${d}-regular graph on ${n} nodes found in ${maxTries} tries`,
  );
}

function tryRegular(
  n: number,
  d: number,
  rng: Rng,
): { src: Int32Array; dst: Int32Array } | undefined {
  const seen = new Set<number>();
  const buf = new EdgeBuffer((n * d) / 2);
  let stubs = new Int32Array(n * d);
  for (let i = 0; i < stubs.length; i++) stubs[i] = Math.floor(i / d);
  while (stubs.length > 0) {
    rng.shuffle(stubs);
    const left: number[] = [];
    for (let i = 0; i + 1 < stubs.length; i += 2) {
      let a = stubs[i]!;
      let b = stubs[i + 1]!;
      if (a > b) [a, b] = [b, a];
      const key = a * n + b;
      if (a !== b && !seen.has(key)) {
        seen.add(key);
        buf.push(a, b);
      } else left.push(a, b);
    }
    if (left.length > 0 && !suitable(left, seen, n)) return undefined;
    stubs = Int32Array.from(left);
  }
  return buf.edges();
}

/** Whether some pair of distinct leftover nodes is not yet an edge (so pairing can go on). */
function suitable(left: number[], seen: Set<number>, n: number): boolean {
  const nodes = [...new Set(left)];
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = Math.min(nodes[i]!, nodes[j]!);
      const b = Math.max(nodes[i]!, nodes[j]!);
      if (!seen.has(a * n + b)) return true;
    }
  }
  return false;
}
