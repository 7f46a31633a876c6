import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { serializeSafetensors, type TensorToWrite } from '@plexus/models';
import type * as tf from '@tensorflow/tfjs-core';
import { renameDurably, sha256Hex, syncDir, writeAndSync } from './atomic-write.js';
import {
  CHECKPOINT_FORMAT,
  type CheckpointManifest,
  checkpointDirName,
  MANIFEST_FILE,
  STATE_FILE,
  stepOfDirName,
  TRAINER_FILE,
  type TrainerState,
} from './format.js';

/**
 * The state of one step boundary. The tensors are `tf.clone`s: they share
 * the buffers of the live variables, which the optimizer never writes in
 * place (`Variable.assign` swaps in a new buffer), so taking a snapshot
 * costs no copy and the copy to host happens later, in the background.
 */
export interface CheckpointSnapshot {
  readonly trainer: TrainerState;
  readonly tensors: ReadonlyMap<string, tf.Tensor>;
}

/** What {@link AsyncCheckpointer} reports for each checkpoint it commits. */
export interface CommittedCheckpoint {
  readonly step: number;
  readonly dir: string;
  readonly bytes: number;
  /** From accepting the snapshot to the rename being durable. */
  readonly writeMs: number;
}

/**
 * Asynchronous, atomic checkpoints after "DataStates-LLM: Lazy Asynchronous
 * Checkpointing for Large Language Models" (Maurya et al., 2024): at a step
 * boundary the trainer hands over immutable references to the model and
 * optimizer tensors ({@link CheckpointSnapshot}) and goes on training; a
 * background task copies them to host memory, serialises them, hashes them
 * (WebCrypto, thread pool) and writes them (fs/promises, thread pool). Only
 * one checkpoint is in flight: the next {@link save} waits for the previous
 * one, as DataStates-LLM throttles when the flush falls behind.
 *
 * Atomicity: files go into a temporary directory, each is fsync'd, the
 * manifest (sizes and SHA-256) is written last, the directory is fsync'd,
 * renamed to `step-NNNNNNNN` and the parent is fsync'd. A crash leaves
 * either a whole checkpoint or a `.tmp-*` directory that is ignored and
 * removed. The newest `keep` checkpoints are kept.
 */
export class AsyncCheckpointer {
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    readonly dir: string,
    private readonly options: {
      keep?: number;
      onCommitted?: (c: CommittedCheckpoint) => void;
    } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    // Leftovers of a run killed while writing: never valid, never read.
    for (const name of readdirSync(dir))
      if (name.startsWith('.tmp-')) rmSync(join(dir, name), { recursive: true, force: true });
  }

  /**
   * Start writing `snapshot` in the background; resolves once the previous
   * checkpoint is done (so at most one is in flight), not when this one is.
   * The snapshot's tensors are disposed by the checkpointer.
   */
  async save(snapshot: CheckpointSnapshot): Promise<void> {
    try {
      await this.flush();
    } catch (e) {
      for (const t of snapshot.tensors.values()) t.dispose();
      throw e;
    }
    const started = performance.now();
    this.inFlight = this.write(snapshot, started).catch((e: unknown) => {
      this.failure = e;
    });
  }

  /** Wait for the checkpoint in flight; rethrows its error if it failed. */
  async flush(): Promise<void> {
    await this.inFlight;
    this.inFlight = undefined;
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      throw e;
    }
  }

  private async write(snapshot: CheckpointSnapshot, started: number): Promise<void> {
    const step = snapshot.trainer.step;
    const name = checkpointDirName(step);
    const tmp = join(
      this.dir,
      `.tmp-${name}-${process.pid}-${Math.random().toString(36).slice(2)}`,
    );
    const host = new Map<string, TensorToWrite>();
    try {
      // The lazy copy: device (or wasm heap) to host, one tensor at a time,
      // yielding to the training loop between tensors.
      for (const [key, t] of snapshot.tensors) {
        host.set(key, { shape: t.shape, data: (await t.data()) as Float32Array });
        t.dispose();
      }
    } finally {
      for (const t of snapshot.tensors.values()) if (!t.isDisposed) t.dispose();
    }
    const state = serializeSafetensors(host, { format: 'pt' });
    host.clear();
    const trainer = new TextEncoder().encode(`${JSON.stringify(snapshot.trainer, null, 1)}\n`);
    const [stateSha, trainerSha] = await Promise.all([sha256Hex(state), sha256Hex(trainer)]);
    const manifest: CheckpointManifest = {
      format: CHECKPOINT_FORMAT,
      step,
      files: {
        [STATE_FILE]: { bytes: state.byteLength, sha256: stateSha },
        [TRAINER_FILE]: { bytes: trainer.byteLength, sha256: trainerSha },
      },
    };
    await mkdir(tmp);
    try {
      await writeAndSync(join(tmp, STATE_FILE), state);
      await writeAndSync(join(tmp, TRAINER_FILE), trainer);
      await writeAndSync(
        join(tmp, MANIFEST_FILE),
        new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`),
      );
      await syncDir(tmp);
      const final = join(this.dir, name);
      // A resumed run may redo a step whose checkpoint exists but was unusable.
      await rm(final, { recursive: true, force: true });
      await renameDurably(tmp, final, this.dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    await this.prune();
    this.options.onCommitted?.({
      step,
      dir: join(this.dir, name),
      bytes: state.byteLength + trainer.byteLength,
      writeMs: performance.now() - started,
    });
  }

  private async prune(): Promise<void> {
    const keep = this.options.keep ?? 2;
    const steps = (await readdir(this.dir))
      .map((n) => [n, stepOfDirName(n)] as const)
      .filter((e): e is readonly [string, number] => e[1] !== undefined)
      .sort((a, b) => b[1] - a[1]);
    for (const [n] of steps.slice(keep))
      await rm(join(this.dir, n), { recursive: true, force: true });
  }
}
