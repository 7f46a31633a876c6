import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKEND_ORDER, type PlexusBackendName } from '@plexus/tensor';
import { UsageError } from '../usage-error.js';

/** Parsed options of `plexus-train lm`. */
export interface LmOptions {
  /** `bundled` or a text file. */
  readonly data: string;
  /** `tiny`, `tiny-moe` or a path to a `config.json`. */
  readonly config: string;
  /** A Hugging Face tokenizer directory to use instead of training one. */
  readonly tokenizer: string | undefined;
  readonly workers: number;
  readonly steps: number;
  /** Sequences per worker per step. */
  readonly batch: number;
  readonly seq: number;
  readonly lr: number;
  readonly warmup: number;
  readonly weightDecay: number;
  /** Global-norm clipping threshold. */
  readonly clip: number;
  readonly out: string;
  readonly resume: boolean;
  /** DiLoCo inner steps between outer synchronisations (undefined: all-reduce every step). */
  readonly diloco: number | undefined;
  /** Checkpoint every K steps (0: only the final model). */
  readonly checkpointEvery: number;
  readonly seed: number;
  readonly backend: PlexusBackendName | 'auto';
}

/** Usage text of `plexus-train lm`. */
export const LM_USAGE = `usage: plexus-train lm [--data bundled|FILE] [--config tiny|tiny-moe|CONFIG.json] [--tokenizer DIR]
                       [--workers N] [--steps S] [--batch B] [--seq L] [--lr LR] [--warmup W]
                       [--weight-decay WD] [--clip C] [--out DIR] [--resume] [--diloco H]
                       [--checkpoint-every K] [--seed N] [--backend auto|${BACKEND_ORDER.join('|')}]

Trains a Llama-style (tiny) or Mixtral-style (tiny-moe) language model on a
text file (default: the bundled Jane Austen corpus) with AdamW, linear warmup
and cosine decay, and global-norm gradient clipping. The byte-level BPE
tokenizer is trained on the text unless --tokenizer gives one. --workers N
starts N data-parallel processes (batch B each, gradients averaged every
step, or every H steps with --diloco H). Checkpoints are written in the
background every K steps into DIR/checkpoints (the last 2 kept) and --resume
continues from the newest valid one. Writes DIR/metrics.jsonl, DIR/loss.svg
and the final model in the Hugging Face layout under DIR/model.
Defaults: --data bundled --config tiny --workers 1 --steps 200 --batch 8
--seq 64 --lr 3e-3 --warmup 20 --weight-decay 0.1 --clip 1 --checkpoint-every 50
--seed 0 --out runs/lm-<config>.`;

function int(name: string, raw: unknown, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(raw)}'`);
  return n;
}

function num(name: string, raw: unknown, fallback: number, min: number, strict: boolean): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    (strict ? n <= min : n < min)
  )
    throw new UsageError(
      `--${name} must be a number ${strict ? '>' : '>='} ${min}, got '${String(raw)}'`,
    );
  return n;
}

/** Parse and check the arguments after `lm`. */
export function parseLmOptions(argv: readonly string[]): LmOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string', default: 'bundled' },
        config: { type: 'string', default: 'tiny' },
        tokenizer: { type: 'string' },
        workers: { type: 'string' },
        steps: { type: 'string' },
        batch: { type: 'string' },
        seq: { type: 'string' },
        lr: { type: 'string' },
        warmup: { type: 'string' },
        'weight-decay': { type: 'string' },
        clip: { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'boolean', default: false },
        diloco: { type: 'string' },
        'checkpoint-every': { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config = values['config'] as string;
  if (config !== 'tiny' && config !== 'tiny-moe' && !existsSync(config))
    throw new UsageError(
      `--config '${config}' is not known; accepted: tiny, tiny-moe or the path of a config.json`,
    );
  const backend = values['backend'] as string;
  if (backend !== 'auto' && !(BACKEND_ORDER as readonly string[]).includes(backend))
    throw new UsageError(
      `--backend '${backend}' is not known; accepted: auto, ${BACKEND_ORDER.join(', ')}`,
    );
  const steps = int('steps', values['steps'], 200, 1);
  const warmup = int('warmup', values['warmup'], Math.min(20, steps - 1), 0);
  if (warmup >= steps)
    throw new UsageError(`--warmup ${warmup} must be smaller than --steps ${steps}`);
  const name =
    config
      .replace(/\.json$/, '')
      .split('/')
      .pop() ?? config;
  return {
    data: values['data'] as string,
    config,
    tokenizer: values['tokenizer'] as string | undefined,
    workers: int('workers', values['workers'], 1, 1),
    steps,
    batch: int('batch', values['batch'], 8, 1),
    seq: int('seq', values['seq'], 64, 2),
    lr: num('lr', values['lr'], 3e-3, 0, true),
    warmup,
    weightDecay: num('weight-decay', values['weight-decay'], 0.1, 0, false),
    clip: num('clip', values['clip'], 1, 0, true),
    out: (values['out'] as string | undefined) ?? `runs/lm-${name}`,
    resume: values['resume'] === true,
    diloco: values['diloco'] === undefined ? undefined : int('diloco', values['diloco'], 1, 1),
    checkpointEvery: int('checkpoint-every', values['checkpoint-every'], 50, 0),
    seed: int('seed', values['seed'], 0, 0),
    backend: backend as PlexusBackendName | 'auto',
  };
}
