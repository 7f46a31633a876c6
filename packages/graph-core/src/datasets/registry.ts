import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphCoreError } from '../errors.js';
import { type GraphDataset, loadDatasetFromDir } from './planetoid.js';

/** Datasets shipped inside this package's `data/` folder. */
export const BUNDLED_DATASETS = ['cora'] as const;

/** Name of a bundled dataset. */
export type BundledDatasetName = (typeof BUNDLED_DATASETS)[number];

/**
 * Directory of a bundled dataset. The module sits in `dist/` when installed
 * and in `src/datasets/` in the repository, so walk up to the package's `data/`.
 */
export function bundledDatasetDir(name: BundledDatasetName): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, 'data', name);
    if (existsSync(join(candidate, 'meta.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new GraphCoreError(
    'datasets',
    `bundled dataset ${name} not found next to ${fileURLToPath(import.meta.url)}`,
  );
}

/**
 * Load a dataset bundled with the package (`'cora'`: the Planetoid Cora graph
 * with the GCN public split, checksums verified on load).
 */
export function loadDataset(name: BundledDatasetName): GraphDataset {
  if (!(BUNDLED_DATASETS as readonly string[]).includes(name)) {
    throw new GraphCoreError(
      'datasets',
      `unknown dataset "${name}": expected one of ${BUNDLED_DATASETS.join(', ')} (use loadDatasetFromDir for others)`,
    );
  }
  return loadDatasetFromDir(bundledDatasetDir(name));
}
