import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsReader } from '@plexus/models';
import {
  CHECKPOINT_FORMAT,
  type CheckpointManifest,
  MANIFEST_FILE,
  STATE_FILE,
  stepOfDirName,
  TRAINER_FILE,
  type TrainerState,
} from './format.js';

/** A checkpoint that passed every check, with its tensors on the host. */
export interface LoadedCheckpoint {
  readonly dir: string;
  readonly trainer: TrainerState;
  /** Tensors by their prefixed name (`model/...`, `optimizer.m/...`). */
  readonly tensors: ReadonlyMap<string, Float32Array>;
}

/**
 * Read and verify one checkpoint directory: the manifest, each file's size
 * and SHA-256, the safetensors header, and the trainer state's step.
 * Throws an Error saying what is wrong.
 */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new Error(`${MANIFEST_FILE} is missing`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  if (manifest.format !== CHECKPOINT_FORMAT)
    throw new Error(`format is ${JSON.stringify(manifest.format)}; expected ${CHECKPOINT_FORMAT}`);
  const files = new Map<string, Buffer>();
  for (const name of [STATE_FILE, TRAINER_FILE]) {
    const want = manifest.files[name];
    if (!want) throw new Error(`the manifest does not list ${name}`);
    const bytes = readFileSync(join(dir, name));
    if (bytes.byteLength !== want.bytes)
      throw new Error(`${name} has ${bytes.byteLength} bytes; the manifest says ${want.bytes}`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== want.sha256)
      throw new Error(`${name} has SHA-256 ${sha}; the manifest says ${want.sha256}`);
    files.set(name, bytes);
  }
  const trainer = JSON.parse(files.get(TRAINER_FILE)!.toString('utf8')) as TrainerState;
  if (trainer.step !== manifest.step)
    throw new Error(`trainer.json is at step ${trainer.step}; the manifest says ${manifest.step}`);
  const reader = SafetensorsReader.fromBuffer(new Uint8Array(files.get(STATE_FILE)!));
  const tensors = new Map<string, Float32Array>();
  for (const name of reader.names) {
    const t = reader.read(name);
    if (!(t.data instanceof Float32Array))
      throw new Error(`tensor ${name} is ${t.dtype}; expected F32`);
    tensors.set(name, t.data);
  }
  return { dir, trainer, tensors };
}

/** Checkpoint directories under `dir`, newest first. */
export function listCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => [n, stepOfDirName(n)] as const)
    .filter((e): e is readonly [string, number] => e[1] !== undefined)
    .sort((a, b) => b[1] - a[1])
    .map(([n]) => join(dir, n));
}

/**
 * The newest checkpoint under `dir` that verifies; a corrupt or torn one is
 * reported through `warn` and the previous one is tried. Undefined when none
 * is usable.
 */
export function loadNewestValidCheckpoint(
  dir: string,
  warn: (line: string) => void,
): LoadedCheckpoint | undefined {
  for (const path of listCheckpoints(dir)) {
    try {
      return readCheckpoint(path);
    } catch (e) {
      warn(`checkpoint ${path} is not usable (${(e as Error).message}); trying the previous one`);
    }
  }
  return undefined;
}
