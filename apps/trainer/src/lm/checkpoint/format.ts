import type { WindowLoaderState } from '../data-loader.js';

/** Format tag of a trainer checkpoint, in `trainer.json` and `manifest.json`. */
export const CHECKPOINT_FORMAT = 'plexus-train-lm-checkpoint/v1';

/** Files of one checkpoint directory, in the order they are written. */
export const STATE_FILE = 'state.safetensors';
/** Training state that is not a tensor. */
export const TRAINER_FILE = 'trainer.json';
/** Written last: sizes and SHA-256 of the other files. */
export const MANIFEST_FILE = 'manifest.json';

/** Tensor name prefixes inside {@link STATE_FILE}. */
export const PREFIX = {
  model: 'model/',
  adamM: 'optimizer.m/',
  adamV: 'optimizer.v/',
  outerMomentum: 'outer.momentum/',
  outerAnchor: 'outer.anchor/',
} as const;

/** Options that fix the data order and the model; a resumed run must match them. */
export interface RunIdentity {
  readonly seed: number;
  readonly batch: number;
  readonly seq: number;
  readonly workers: number;
  readonly diloco: number | null;
}

/** Everything in a checkpoint that is not a tensor. */
export interface TrainerState {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** Optimizer steps completed; training resumes at this 0-based step. */
  readonly step: number;
  /** AdamW's own step count (bias correction). */
  readonly optimizerStep: number;
  readonly loader: WindowLoaderState;
  /** The model's `config.json` object. */
  readonly config: Record<string, unknown>;
  readonly identity: RunIdentity;
  /** Loss of the last step before the checkpoint, for the log. */
  readonly lastLoss: number | null;
}

/** `manifest.json`: the checksum that tells a whole checkpoint from a torn or corrupt one. */
export interface CheckpointManifest {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly step: number;
  readonly files: Readonly<Record<string, { bytes: number; sha256: string }>>;
}

/** Directory name of the checkpoint after `step` steps (zero-padded so names sort by step). */
export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** The step of a checkpoint directory name, or undefined for anything else (temp dirs included). */
export function stepOfDirName(name: string): number | undefined {
  const m = /^step-(\d{8,})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
