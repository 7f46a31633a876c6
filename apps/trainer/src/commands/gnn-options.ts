import { parseArgs } from 'node:util';
import { NODE_MODELS, type NodeModelName } from '@plexus/gnn-layers';
import { BACKEND_ORDER, type PlexusBackendName } from '@plexus/tensor';
import { UsageError } from '../usage-error.js';
import { POSITIONAL_ENCODINGS, type PositionalEncodingName } from './positional-encoding.js';

/** Parsed options of `plexus-train gnn`. */
export interface GnnOptions {
  readonly dataset: string;
  readonly model: NodeModelName;
  readonly seeds: number;
  readonly backend: PlexusBackendName | 'auto';
  readonly epochs: number | undefined;
  readonly out: string;
  readonly sparseFeatures: boolean;
  /** Positional encoding appended to the features, and its size. */
  readonly pe: PositionalEncodingName;
  readonly peDim: number;
}

/** Usage text of `plexus-train gnn`. */
export const GNN_USAGE = `usage: plexus-train gnn [--dataset cora|DIR] [--model ${NODE_MODELS.join('|')}] [--seeds N]
                        [--backend auto|${BACKEND_ORDER.join('|')}] [--epochs N] [--out DIR] [--dense-features]
                        [--pe ${POSITIONAL_ENCODINGS.join('|')}] [--pe-dim N]

Semi-supervised node classification with the paper's hyper-parameters,
early stopping on the validation split, one run per seed. Writes
DIR/metrics.jsonl (one line per epoch), DIR/summary.json and DIR/curves.svg.
--pe appends a positional encoding to the features: Laplacian eigenvectors
(lap), random-walk PE (rwpe) or Random Feature Propagation (rfp).`;

function positiveInt(
  name: string,
  raw: string | undefined,
  fallback: number | undefined,
): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive integer, got '${raw}'`);
  return n;
}

/** Parse and check the arguments after `gnn`. */
export function parseGnnOptions(argv: string[]): GnnOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string', default: 'cora' },
        model: { type: 'string', default: 'gcn' },
        seeds: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        epochs: { type: 'string' },
        out: { type: 'string' },
        'dense-features': { type: 'boolean', default: false },
        pe: { type: 'string', default: 'none' },
        'pe-dim': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const model = values['model'] as string;
  if (!(NODE_MODELS as readonly string[]).includes(model)) {
    throw new UsageError(`--model '${model}' is not known; accepted: ${NODE_MODELS.join(', ')}`);
  }
  const backend = values['backend'] as string;
  if (backend !== 'auto' && !(BACKEND_ORDER as readonly string[]).includes(backend)) {
    throw new UsageError(
      `--backend '${backend}' is not known; accepted: auto, ${BACKEND_ORDER.join(', ')}`,
    );
  }
  const pe = values['pe'] as string;
  if (!(POSITIONAL_ENCODINGS as readonly string[]).includes(pe)) {
    throw new UsageError(`--pe '${pe}' is not known; accepted: ${POSITIONAL_ENCODINGS.join(', ')}`);
  }
  const dataset = values['dataset'] as string;
  const name = dataset.replace(/\/+$/, '').split('/').pop() ?? dataset;
  return {
    dataset,
    model: model as NodeModelName,
    seeds: positiveInt('seeds', values['seeds'] as string | undefined, 10)!,
    backend: backend as PlexusBackendName | 'auto',
    epochs: positiveInt('epochs', values['epochs'] as string | undefined, undefined),
    out: (values['out'] as string | undefined) ?? `runs/gnn-${name}-${model}`,
    sparseFeatures: values['dense-features'] !== true,
    pe: pe as PositionalEncodingName,
    peDim: positiveInt('pe-dim', values['pe-dim'] as string | undefined, 8)!,
  };
}
