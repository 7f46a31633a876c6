import { CheckpointableRandom } from './rng.js';

/** What a checkpoint stores of a {@link WindowLoader}. */
export interface WindowLoaderState {
  readonly rng: number[];
  /** Global batches drawn so far. */
  readonly batches: number;
}

/** One worker's share of a step's batch: inputs and next-token targets, `[batch, seq]`. */
export interface LmBatch {
  readonly ids: Int32Array;
  readonly targets: Int32Array;
  readonly batch: number;
  readonly seq: number;
}

/**
 * Seeded random windows of `seq + 1` tokens from one token stream. Every
 * step draws the GLOBAL batch (`batchPerWorker × workers` windows) from one
 * generator that all workers run identically, and worker `r` keeps windows
 * `[r·B, (r+1)·B)`: so N workers with batch B see exactly the windows one
 * worker with batch N·B sees, in the same order. The generator state and the
 * batch count go into checkpoints.
 */
export class WindowLoader {
  private readonly rng: CheckpointableRandom;
  private drawn = 0;

  constructor(
    private readonly tokens: Int32Array,
    readonly seq: number,
    readonly batchPerWorker: number,
    readonly workers: number,
    readonly rank: number,
    seed: number,
  ) {
    if (tokens.length < seq + 2)
      throw new Error(
        `the corpus has ${tokens.length} tokens; --seq ${seq} needs at least ${seq + 2}`,
      );
    this.rng = new CheckpointableRandom(seed);
  }

  /** Global batches drawn so far (= optimizer steps taken). */
  get batches(): number {
    return this.drawn;
  }

  /** Draw the next global batch and return this worker's share. */
  next(): LmBatch {
    const { seq, batchPerWorker: B, workers, rank } = this;
    const ids = new Int32Array(B * seq);
    const targets = new Int32Array(B * seq);
    const starts = this.tokens.length - seq;
    for (let w = 0; w < B * workers; w++) {
      const start = this.rng.nextInt(starts);
      const row = w - rank * B;
      if (row < 0 || row >= B) continue;
      ids.set(this.tokens.subarray(start, start + seq), row * seq);
      targets.set(this.tokens.subarray(start + 1, start + seq + 1), row * seq);
    }
    this.drawn++;
    return { ids, targets, batch: B, seq };
  }

  /** The generator state and batch count. */
  state(): WindowLoaderState {
    return { rng: this.rng.getState(), batches: this.drawn };
  }

  /** Continue from a {@link state}. */
  restore(state: WindowLoaderState): void {
    this.rng.setState(state.rng);
    this.drawn = state.batches;
  }
}
