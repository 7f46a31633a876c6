import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { DuplicateWeightMerge, SelfLoopPolicy } from '../csr/build.js';
import { CsrGraph } from '../csr/csr-graph.js';
import { fileError, readMaybeGzip } from './files.js';

/** Options for reading an edge list. */
export interface EdgeListReadOptions {
  /** Directed arcs (default `false`). */
  readonly directed?: boolean;
  /** Number of nodes; ids must be below it. Default: largest id + 1. */
  readonly numNodes?: number;
  /** Merge repeated edges (default `false`). */
  readonly dedupe?: boolean;
  /** How merged weights combine (default `'first'`). */
  readonly mergeWeights?: DuplicateWeightMerge;
  /** Keep or drop self loops (default `'keep'`). */
  readonly selfLoops?: SelfLoopPolicy;
  /** Name used in error messages (default `'<edge list>'`; file readers pass the path). */
  readonly file?: string;
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const HASH = 35;

/**
 * Parse a plain edge list: one edge per line, `u v` or `u v weight`,
 * whitespace separated, `#` starts a comment, blank lines ignored. Every data
 * row must have as many columns as the first. Parses bytes directly (no
 * per-line strings), because loaders of million-edge files live on this path.
 * Errors name the file and 1-based line.
 */
export function parseEdgeList(
  input: string | Uint8Array,
  options: EdgeListReadOptions = {},
): CsrGraph {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  const file = options.file ?? '<edge list>';
  let cap = 1024;
  let src: Int32Array<ArrayBuffer> = new Int32Array(cap);
  let dst: Int32Array<ArrayBuffer> = new Int32Array(cap);
  let wts: Float64Array | undefined;
  let m = 0;
  let columns = 0;
  let firstDataLine = 0;
  let maxId = -1;
  let line = 0;
  let i = 0;
  const len = bytes.length;
  const tok: number[] = [0, 0, 0];
  const tokStart: number[] = [0, 0, 0];
  const tokEnd: number[] = [0, 0, 0];
  while (i < len) {
    line++;
    let nt = 0;
    // Scan one line into at most 3 tokens (positions only).
    for (;;) {
      while (i < len && (bytes[i] === SPACE || bytes[i] === TAB || bytes[i] === CR)) i++;
      if (i >= len || bytes[i] === LF || bytes[i] === HASH) break;
      const s = i;
      while (
        i < len &&
        bytes[i] !== SPACE &&
        bytes[i] !== TAB &&
        bytes[i] !== CR &&
        bytes[i] !== LF
      )
        i++;
      if (nt >= 3) {
        throw fileError(file, line, `expected 2 or 3 columns (u v [weight]), got more`);
      }
      tokStart[nt] = s;
      tokEnd[nt] = i;
      nt++;
    }
    while (i < len && bytes[i] !== LF) i++;
    i++;
    if (nt === 0) continue;
    if (columns === 0) {
      if (nt < 2) throw fileError(file, line, `expected 2 or 3 columns (u v [weight]), got ${nt}`);
      columns = nt;
      firstDataLine = line;
      if (columns === 3) wts = new Float64Array(cap);
    } else if (nt !== columns) {
      throw fileError(
        file,
        line,
        `expected ${columns} columns like the first data row (line ${firstDataLine}), got ${nt}`,
      );
    }
    for (let t = 0; t < 2; t++) {
      let v = 0;
      const a = tokStart[t]!;
      const b = tokEnd[t]!;
      for (let p = a; p < b; p++) {
        const c = bytes[p]! - 48;
        if (c < 0 || c > 9 || v > 0x7fffffff) {
          const text = new TextDecoder().decode(bytes.subarray(a, b));
          throw fileError(
            file,
            line,
            `"${text}" is not a node id: expected a non-negative integer`,
          );
        }
        v = v * 10 + c;
      }
      if (v > 0x7ffffffe) throw fileError(file, line, `node id ${v} is too large for int32`);
      if (options.numNodes !== undefined && v >= options.numNodes) {
        throw fileError(file, line, `node id ${v} is out of range [0, ${options.numNodes})`);
      }
      tok[t] = v;
      if (v > maxId) maxId = v;
    }
    if (m === cap) {
      cap *= 2;
      src = grow(src, cap);
      dst = grow(dst, cap);
      if (wts !== undefined) {
        const w = new Float64Array(cap);
        w.set(wts);
        wts = w;
      }
    }
    src[m] = tok[0]!;
    dst[m] = tok[1]!;
    if (wts !== undefined) {
      const text = new TextDecoder().decode(bytes.subarray(tokStart[2]!, tokEnd[2]!));
      const w = Number(text);
      if (!Number.isFinite(w))
        throw fileError(file, line, `"${text}" is not a weight: expected a finite number`);
      wts[m] = w;
    }
    m++;
  }
  return CsrGraph.fromEdges(options.numNodes ?? maxId + 1, src.subarray(0, m), dst.subarray(0, m), {
    directed: options.directed ?? false,
    weights: wts?.subarray(0, m),
    dedupe: options.dedupe ?? false,
    mergeWeights: options.mergeWeights ?? 'first',
    selfLoops: options.selfLoops ?? 'keep',
  });
}

function grow(a: Int32Array, cap: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

/** Read an edge-list file (gzip if the name ends in `.gz`); errors name the file and line. */
export function readEdgeList(
  file: string,
  options: Omit<EdgeListReadOptions, 'file'> = {},
): CsrGraph {
  return parseEdgeList(readMaybeGzip(file), { ...options, file });
}

/**
 * Format as an edge list: `u v` or `u v weight` per line, undirected edges
 * once as `u <= v`, preceded by a `#` header with the sizes.
 */
export function formatEdgeList(graph: CsrGraph): string {
  const parts: string[] = [
    `# ${graph.directed ? 'directed' : 'undirected'} graph: ${graph.numNodes} nodes, ${graph.numEdges} stored arcs`,
  ];
  const { indptr, indices, weights } = graph;
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (!graph.directed && v < u) continue;
      parts.push(weights === undefined ? `${u} ${v}` : `${u} ${v} ${weights[p]}`);
    }
  }
  return `${parts.join('\n')}\n`;
}

/** Write {@link formatEdgeList} to `file` (gzipped if the name ends in `.gz`). */
export function writeEdgeList(file: string, graph: CsrGraph): void {
  const text = formatEdgeList(graph);
  try {
    writeFileSync(file, file.endsWith('.gz') ? gzipSync(text) : text);
  } catch (cause) {
    throw fileError(file, undefined, `cannot write file (${(cause as Error).message})`, cause);
  }
}
