import { fileError } from '../io/files.js';

/** One array's entry in `meta.json.files`. */
export interface DatasetFileSpec {
  readonly dtype: 'int32' | 'float32';
  readonly byte_order: 'little';
  readonly length: number;
  readonly bytes_uncompressed: number;
  readonly sha256_uncompressed: string;
}

/** The fields of a Planetoid-format `meta.json` this package reads (others are kept as-is). */
export interface DatasetMeta {
  readonly name: string;
  readonly format_version: 1;
  readonly num_nodes: number;
  readonly num_features: number;
  readonly num_classes: number;
  readonly num_edges: number;
  readonly num_arcs?: number;
  readonly features_available: boolean;
  readonly num_connected_components?: number;
  readonly split: {
    readonly kind?: string;
    readonly train: readonly number[];
    readonly val: readonly number[];
    readonly test: readonly number[];
  };
  readonly files: Readonly<Record<string, DatasetFileSpec | undefined>>;
  readonly [key: string]: unknown;
}

/** Check the fields the loader relies on, with errors naming the file and field. */
export function validateMeta(file: string, json: unknown): DatasetMeta {
  const bad = (msg: string): never => {
    throw fileError(file, undefined, msg);
  };
  if (typeof json !== 'object' || json === null) return bad('expected a JSON object');
  const m = json as Record<string, unknown>;
  if (m['format_version'] !== 1)
    bad(`format_version must be 1, got ${String(m['format_version'])}`);
  for (const key of ['num_nodes', 'num_features', 'num_classes', 'num_edges']) {
    const v = m[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      bad(`${key} must be a non-negative integer`);
  }
  if (typeof m['name'] !== 'string') bad('name must be a string');
  if (typeof m['features_available'] !== 'boolean') bad('features_available must be a boolean');
  const split = m['split'] as Record<string, unknown> | undefined;
  if (typeof split !== 'object' || split === null) return bad('split must be an object');
  const n = m['num_nodes'] as number;
  for (const key of ['train', 'val', 'test']) {
    const ids = split[key];
    if (!Array.isArray(ids)) return bad(`split.${key} must be an array of node ids`);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= n)
        bad(`split.${key}[${i}] = ${id} is not a node id in [0, ${n})`);
    });
  }
  const files = m['files'];
  if (typeof files !== 'object' || files === null) bad('files must be an object');
  for (const [name, spec] of Object.entries(files as Record<string, unknown>)) {
    const s = spec as Record<string, unknown>;
    if (s['dtype'] !== 'int32' && s['dtype'] !== 'float32')
      bad(`files.${name}.dtype must be int32 or float32`);
    if (s['byte_order'] !== 'little') bad(`files.${name}.byte_order must be "little"`);
    if (!Number.isInteger(s['length'])) bad(`files.${name}.length must be an integer`);
    if (typeof s['sha256_uncompressed'] !== 'string')
      bad(`files.${name}.sha256_uncompressed must be a string`);
  }
  return json as DatasetMeta;
}
