import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CsrGraph } from '../csr/csr-graph.js';
import type { SparseFeatures } from '../csr/features.js';
import { fileError, parseJsonFile } from '../io/files.js';
import { type DatasetMeta, validateMeta } from './meta.js';

/** Train/validation/test node ids (each sorted ascending, disjoint). */
export interface DatasetSplit {
  readonly train: Int32Array;
  readonly val: Int32Array;
  readonly test: Int32Array;
}

/** A node-classification dataset in CSR form. */
export interface GraphDataset {
  /** Dataset name from meta.json. */
  readonly name: string;
  /** Undirected graph (both arcs per edge) with sparse raw features and labels (-1 = none). */
  readonly graph: CsrGraph;
  /** The split recorded in meta.json (for Cora: the Planetoid public split). */
  readonly split: DatasetSplit;
  /** Number of classes. */
  readonly numClasses: number;
  /** Number of feature columns (0 if the dataset has no features). */
  readonly numFeatures: number;
  /** The parsed meta.json. */
  readonly meta: DatasetMeta;
}

type ArrayName = 'labels' | 'edges' | 'features.indptr' | 'features.indices' | 'features.values';

/** Read one `<name>.bin.gz` array, checking gzip integrity, length and SHA-256 against meta.json. */
function readArray(dir: string, meta: DatasetMeta, name: ArrayName): Int32Array | Float32Array {
  const file = join(dir, `${name}.bin.gz`);
  const spec = meta.files[name];
  if (spec === undefined)
    throw fileError(join(dir, 'meta.json'), undefined, `files.${name} is missing`);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (cause) {
    throw fileError(file, undefined, `cannot read file (${(cause as Error).message})`, cause);
  }
  let bytes: Buffer;
  try {
    bytes = gunzipSync(raw);
  } catch (cause) {
    throw fileError(
      file,
      undefined,
      `not a complete gzip stream, the file is truncated or corrupt (${(cause as Error).message})`,
      cause,
    );
  }
  if (bytes.length !== spec.length * 4) {
    throw fileError(
      file,
      undefined,
      `expected ${spec.length} ${spec.dtype} elements (${spec.length * 4} bytes), got ${bytes.length} bytes`,
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== spec.sha256_uncompressed) {
    throw fileError(
      file,
      undefined,
      `SHA-256 ${digest} does not match meta.json (${spec.sha256_uncompressed})`,
    );
  }
  // Copy into an aligned buffer; the format is little-endian, like every JS engine target.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  return spec.dtype === 'float32'
    ? new Float32Array(aligned.buffer)
    : new Int32Array(aligned.buffer);
}

/**
 * Load a dataset directory in the Planetoid format v1 (meta.json plus
 * gzip-compressed little-endian arrays; see the package README), verifying
 * every array's SHA-256 and every id's range. Works for Cora, CiteSeer,
 * PubMed or any graph converted to that format.
 */
export function loadDatasetFromDir(dir: string): GraphDataset {
  const metaFile = join(dir, 'meta.json');
  let text: string;
  try {
    text = readFileSync(metaFile, 'utf8');
  } catch (cause) {
    throw fileError(metaFile, undefined, `cannot read file (${(cause as Error).message})`, cause);
  }
  const meta = validateMeta(metaFile, parseJsonFile(metaFile, text));
  const n = meta.num_nodes;
  const labels = readArray(dir, meta, 'labels') as Int32Array;
  const edgeFile = join(dir, 'edges.bin.gz');
  const edges = readArray(dir, meta, 'edges') as Int32Array;
  if (edges.length !== 2 * meta.num_edges) {
    throw fileError(
      edgeFile,
      undefined,
      `expected 2 * num_edges = ${2 * meta.num_edges} ids, got ${edges.length}`,
    );
  }
  const m = meta.num_edges;
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  for (let e = 0; e < m; e++) {
    const u = edges[2 * e]!;
    const v = edges[2 * e + 1]!;
    if (u < 0 || u >= n || v < 0 || v >= n) {
      throw fileError(
        edgeFile,
        undefined,
        `edge ${e} (${u}, ${v}) has a node id out of range [0, ${n})`,
      );
    }
    src[e] = u;
    dst[e] = v;
  }
  for (let u = 0; u < n; u++) {
    const y = labels[u]!;
    if (y < -1 || y >= meta.num_classes) {
      throw fileError(
        join(dir, 'labels.bin.gz'),
        undefined,
        `label ${y} of node ${u} is out of range [-1, ${meta.num_classes})`,
      );
    }
  }
  let graph = CsrGraph.fromEdges(n, src, dst).withLabels(labels);
  if (meta.features_available) {
    const indptr = readArray(dir, meta, 'features.indptr') as Int32Array;
    const indices = readArray(dir, meta, 'features.indices') as Int32Array;
    const values = readArray(dir, meta, 'features.values') as Float32Array;
    const features: SparseFeatures = { indptr, indices, values, dim: meta.num_features };
    try {
      graph = graph.withFeatures(features);
    } catch (cause) {
      throw fileError(
        join(dir, 'features.indptr.bin.gz'),
        undefined,
        (cause as Error).message,
        cause,
      );
    }
  }
  const split: DatasetSplit = {
    train: Int32Array.from(meta.split.train),
    val: Int32Array.from(meta.split.val),
    test: Int32Array.from(meta.split.test),
  };
  return {
    name: meta.name,
    graph,
    split,
    numClasses: meta.num_classes,
    numFeatures: meta.features_available ? meta.num_features : 0,
    meta,
  };
}
