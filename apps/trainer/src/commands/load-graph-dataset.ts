import { existsSync, statSync } from 'node:fs';
import {
  BUNDLED_DATASETS,
  type GraphDataset,
  loadDataset,
  loadDatasetFromDir,
} from '@plexus/graph-core';
import { UsageError } from '../usage-error.js';

/** A bundled dataset by name, or any directory in the Planetoid dataset format. */
export function loadGraphDataset(spec: string): GraphDataset {
  if ((BUNDLED_DATASETS as readonly string[]).includes(spec))
    return loadDataset(spec as (typeof BUNDLED_DATASETS)[number]);
  if (existsSync(spec) && statSync(spec).isDirectory()) return loadDatasetFromDir(spec);
  throw new UsageError(
    `--dataset '${spec}' is neither a bundled dataset (${BUNDLED_DATASETS.join(', ')}) nor a directory in the dataset format (meta.json + *.bin.gz)`,
  );
}
