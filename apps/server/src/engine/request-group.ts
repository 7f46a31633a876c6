import { SeededRandom } from '@plexus/tensor';
import type { EventQueue } from './event-queue.js';
import type { SampledToken } from './sampling.js';
import type { FinishReason, SamplingParams } from './sampling-params.js';

/** What the engine reports for a request, in order. */
export type EngineEvent =
  | { readonly type: 'token'; readonly choice: number; readonly sampled: SampledToken }
  | { readonly type: 'finish'; readonly choice: number; readonly reason: FinishReason }
  | { readonly type: 'error'; readonly message: string };

/** One choice of a request: a sequence in the block manager. */
export class SequenceState {
  /** Tokens whose K/V are in the cache (prefix of `tokens`). */
  numComputed = 0;
  /** Generated tokens so far. */
  numOutput = 0;
  finished: FinishReason | undefined;
  readonly rng: SeededRandom;

  constructor(
    readonly seqId: number,
    readonly choice: number,
    /** Prompt followed by the generated tokens. */
    readonly tokens: number[],
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
  }

  /** Whether this sequence still needs a forward pass for the tokens it has. */
  get pending(): number {
    return this.tokens.length - this.numComputed;
  }
}

/** Lifecycle of a request inside the engine. */
export type GroupStatus = 'waiting' | 'running' | 'finished';

/**
 * A request: its prompt, its sampling parameters, and its `n` sequences
 * (one until the prompt is prefilled, then forked into `n`).
 */
export class RequestGroup {
  status: GroupStatus = 'waiting';
  readonly seqs: SequenceState[] = [];
  aborted = false;
  /** Times for metrics (ms since epoch). */
  readonly arrivalMs: number;
  firstTokenMs: number | undefined;
  lastTokenMs: number | undefined;
  /** Tokens processed for this request so far (prefill + decode), for MLFQ quanta. */
  servedTokens = 0;
  /** MLFQ queue level (0 = highest priority). */
  level = 0;
  /** Engine step when the request last ran, for starvation promotion. */
  lastRunStep = 0;
  /** Times this request was preempted. */
  preemptions = 0;

  constructor(
    readonly id: number,
    readonly promptTokens: readonly number[],
    readonly params: SamplingParams,
    readonly salt: string | undefined,
    readonly events: EventQueue<EngineEvent>,
    nowMs: number,
  ) {
    this.arrivalMs = nowMs;
  }

  /** Live (unfinished) sequences. */
  live(): SequenceState[] {
    return this.seqs.filter((s) => s.finished === undefined);
  }
}
