import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CsrGraph } from '../csr/csr-graph.js';
import { isSparseFeatures } from '../csr/features.js';
import { GraphCoreError } from '../errors.js';
import { connectedComponents } from '../traversal/components.js';
import type { DatasetFileSpec } from './meta.js';
import type { DatasetSplit } from './planetoid.js';

/** What {@link writeDatasetDir} needs. */
export interface DatasetToWrite {
  readonly name: string;
  /** Undirected graph; labels required (-1 = none); features optional and sparse. */
  readonly graph: CsrGraph;
  readonly split: DatasetSplit;
  readonly numClasses: number;
}

function arraySpec(arr: Int32Array | Float32Array): { bytes: Buffer; spec: DatasetFileSpec } {
  const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
  return {
    bytes,
    spec: {
      dtype: arr instanceof Float32Array ? 'float32' : 'int32',
      byte_order: 'little',
      length: arr.length,
      bytes_uncompressed: arr.byteLength,
      sha256_uncompressed: createHash('sha256').update(bytes).digest('hex'),
    },
  };
}

/**
 * Write a dataset directory in the Planetoid format v1 that
 * {@link loadDatasetFromDir} reads: edges once as sorted `u < v` pairs (self
 * loops dropped), byte-reproducible gzip (mtime 0), SHA-256 per array.
 */
export function writeDatasetDir(dir: string, data: DatasetToWrite): void {
  const { graph } = data;
  if (graph.directed)
    throw new GraphCoreError('datasets', 'the dataset format stores undirected graphs only');
  if (graph.labels === undefined)
    throw new GraphCoreError('datasets', 'the dataset format needs node labels (-1 = none)');
  if (graph.features !== undefined && !isSparseFeatures(graph.features)) {
    throw new GraphCoreError(
      'datasets',
      'the dataset format stores sparse (CSR) features; convert dense ones first',
    );
  }
  const pairs: number[] = [];
  for (let u = 0; u < graph.numNodes; u++) {
    let last = -1;
    for (let p = graph.indptr[u]!; p < graph.indptr[u + 1]!; p++) {
      const v = graph.indices[p]!;
      if (v > u && v !== last) pairs.push(u, v);
      last = v;
    }
  }
  const arrays: Record<string, Int32Array | Float32Array> = {
    labels: graph.labels,
    edges: Int32Array.from(pairs),
  };
  const f = graph.features;
  if (f !== undefined) {
    arrays['features.indptr'] = f.indptr;
    arrays['features.indices'] = f.indices;
    arrays['features.values'] = f.values;
  }
  mkdirSync(dir, { recursive: true });
  const files: Record<string, DatasetFileSpec> = {};
  for (const [name, arr] of Object.entries(arrays)) {
    const { bytes, spec } = arraySpec(arr);
    files[name] = spec;
    writeFileSync(join(dir, `${name}.bin.gz`), gzipSync(bytes, { level: 9 }));
  }
  const meta = {
    name: data.name,
    format_version: 1,
    num_nodes: graph.numNodes,
    num_features: f?.dim ?? 0,
    num_classes: data.numClasses,
    num_edges: pairs.length / 2,
    num_arcs: pairs.length,
    num_feature_nonzeros: f === undefined ? 0 : f.indices.length,
    features_available: f !== undefined,
    num_connected_components: connectedComponents(graph).count,
    split: {
      kind: 'custom',
      num_train: data.split.train.length,
      num_val: data.split.val.length,
      num_test: data.split.test.length,
      train: Array.from(data.split.train),
      val: Array.from(data.split.val),
      test: Array.from(data.split.test),
    },
    files,
  };
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}
