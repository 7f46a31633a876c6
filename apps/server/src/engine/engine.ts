import { BlockManager, type BlockSize } from '@plexus/kv-cache';
import { EventQueue } from './event-queue.js';
import type { ModelStepEntry, ServingModelV1 } from './model.js';
import { type EngineEvent, RequestGroup, SequenceState } from './request-group.js';
import { type SampledToken, sampleToken } from './sampling.js';
import type { FinishReason, SamplingParams } from './sampling-params.js';
import { fcfsPolicy, type SchedulerPolicy } from './scheduler-policy.js';
import type { HierarchicalDrafter } from './speculative/hierarchical-drafter.js';

/** Engine settings. */
export interface EngineOptions {
  readonly model: ServingModelV1;
  /** Token ids that end a choice (the tokenizer's EOS ids). */
  readonly eosTokenIds: readonly number[];
  /** KV blocks in the pool. */
  readonly numBlocks: number;
  /** Tokens per block; default 16. */
  readonly blockSize?: BlockSize;
  /** Tokens (prefill + decode) one step may process; default 256. */
  readonly maxBatchTokens?: number;
  /** Requests whose tokens one step may process (the batch); default 64. */
  readonly maxRunning?: number;
  /** Requests holding KV blocks at once (scheduled or paused by priority); default 4 × maxRunning. */
  readonly maxResident?: number;
  /** Requests waiting before `submit` refuses (HTTP 429); default 256. */
  readonly maxWaiting?: number;
  /** Default `fcfs`. */
  readonly policy?: SchedulerPolicy;
  /** Share cached prompt blocks between requests; default true. */
  readonly enablePrefixCaching?: boolean;
  /**
   * Speculative decoding for greedy requests: drafts from `drafter`, up to
   * `numDraftTokens` (default 4) per step, verified in the same forward pass.
   */
  readonly speculation?: {
    readonly drafter: HierarchicalDrafter;
    readonly numDraftTokens?: number;
  };
  /** Observes every step (metrics). */
  readonly onStep?: (info: StepInfo) => void;
  /** Clock in ms (tests may inject one). */
  readonly now?: () => number;
}

/** What one step did, for metrics and the dashboard. */
export interface StepInfo {
  readonly step: number;
  readonly prefillTokens: number;
  readonly decodeTokens: number;
  readonly generatedTokens: number;
  readonly running: number;
  readonly waiting: number;
  readonly durationMs: number;
}

/** A request as the engine accepts it. */
export interface GenerateRequest {
  readonly promptTokens: readonly number[];
  readonly params: SamplingParams;
  /** Prefix-cache tenant: prompts only share cached blocks within one salt. */
  readonly salt?: string;
}

/** What `submit` returns: the request's events and a way to cancel it. */
export interface GenerationHandle {
  readonly requestId: number;
  readonly events: AsyncIterable<EngineEvent>;
  /** Cancels the request; its KV blocks are freed before the next step. */
  abort(): void;
  /** Ends one choice early (a stop string matched), freeing its blocks. */
  stopChoice(choice: number): void;
  /** Arrival, first-token and last-token times (ms) for latency metrics. */
  timings(): { arrivalMs: number; firstTokenMs?: number; lastTokenMs?: number };
}

/** Why `submit` refused a request. */
export class EngineRejection extends Error {
  constructor(
    readonly kind: 'queue-full' | 'too-long',
    message: string,
  ) {
    super(message);
    this.name = 'EngineRejection';
  }
}

/**
 * Continuous (iteration-level) batching, as Orca does ("Orca: A Distributed
 * Serving System for Transformer-Based Generative Models", Yu et al., 2022):
 * every step, finished requests leave and waiting ones join; prompts are
 * prefilled in chunks mixed with the running requests' decodes (as vLLM's
 * chunked prefill does) under a token budget. KV lives in `@plexus/kv-cache`
 * blocks: shared prompt prefixes are computed once, `n > 1` choices fork the
 * prompt's blocks (copy-on-write), and when the pool is full the
 * lowest-priority request is preempted and recomputed later.
 */
export class Engine {
  readonly manager: BlockManager;
  private readonly model: ServingModelV1;
  private readonly policy: SchedulerPolicy;
  private readonly eos: Set<number>;
  private readonly maxBatchTokens: number;
  private readonly maxRunning: number;
  private readonly maxResident: number;
  private readonly maxWaiting: number;
  private readonly now: () => number;
  private readonly groups = new Map<number, RequestGroup>();
  private readonly bySeq = new Map<number, SequenceState>();
  /**
   * Device blocks whose K/V have been computed. A prompt block is registered
   * in the prefix cache when its sequence is admitted, before its K/V exist:
   * a request admitted in the same step with the same prefix must not skip
   * those tokens until the block is ready.
   */
  private readonly readyBlocks = new Set<number>();
  private readonly blockSize: number;
  private nextRequestId = 1;
  private nextSeqId = 1;
  private stepCount = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  /** Generated tokens since start (for throughput). */
  generatedTokens = 0;
  /** Draft tokens proposed and accepted since start (speculative decoding). */
  draftedTokens = 0;
  acceptedTokens = 0;
  /** (time, generated) of recent steps, for a sliding-window tokens/s. */
  private readonly recentSteps: { t: number; n: number }[] = [];

  constructor(private readonly options: EngineOptions) {
    this.model = options.model;
    this.policy = options.policy ?? fcfsPolicy();
    this.eos = new Set(options.eosTokenIds);
    this.maxBatchTokens = options.maxBatchTokens ?? 256;
    this.maxRunning = options.maxRunning ?? 64;
    this.maxResident = options.maxResident ?? 4 * this.maxRunning;
    this.maxWaiting = options.maxWaiting ?? 256;
    this.now = options.now ?? Date.now;
    const blockSize = options.blockSize ?? 16;
    this.blockSize = blockSize;
    this.manager = new BlockManager({
      numBlocks: options.numBlocks,
      blockSize,
      enablePrefixCaching: options.enablePrefixCaching ?? true,
    });
    this.model.allocateCache({ numBlocks: options.numBlocks, blockSize });
    this.policy.bind?.(this.manager);
  }

  /** Queues a request; throws {@link EngineRejection} when the queue is full or the prompt can never fit. */
  submit(request: GenerateRequest): GenerationHandle {
    if (this.stopped) throw new Error('the engine is stopped');
    const waiting = this.countStatus('waiting');
    if (waiting >= this.maxWaiting) {
      throw new EngineRejection(
        'queue-full',
        `${waiting} requests are already waiting (the limit is ${this.maxWaiting}); retry later`,
      );
    }
    const { promptTokens, params } = request;
    const limit = this.model.maxContextLength;
    if (promptTokens.length === 0) throw new EngineRejection('too-long', 'the prompt is empty');
    if (promptTokens.length + params.maxTokens > limit) {
      throw new EngineRejection(
        'too-long',
        `the prompt (${promptTokens.length} tokens) plus max_tokens (${params.maxTokens}) exceeds the model's context of ${limit} tokens`,
      );
    }
    const blocksNeeded = Math.ceil((promptTokens.length + params.maxTokens) / this.blockSize);
    if (blocksNeeded > this.manager.numBlocks) {
      throw new EngineRejection(
        'too-long',
        `the prompt (${promptTokens.length} tokens) plus max_tokens (${params.maxTokens}) needs ${blocksNeeded} KV blocks; the cache holds ${this.manager.numBlocks}`,
      );
    }
    const events = new EventQueue<EngineEvent>();
    const group = new RequestGroup(
      this.nextRequestId++,
      promptTokens,
      params,
      request.salt,
      events,
      this.now(),
    );
    group.lastRunStep = this.stepCount;
    group.seqs.push(this.newSequence(group, 0, [...promptTokens]));
    this.policy.onArrival(group);
    this.groups.set(group.id, group);
    this.kick();
    return {
      requestId: group.id,
      events,
      abort: () => {
        group.aborted = true;
        this.kick();
      },
      stopChoice: (choice) => {
        const seq = group.seqs.find((s) => s.choice === choice);
        if (seq && seq.finished === undefined) this.finishSequence(group, seq, 'stop');
        this.maybeFinishGroup(group);
      },
      timings: () => ({
        arrivalMs: group.arrivalMs,
        ...(group.firstTokenMs !== undefined ? { firstTokenMs: group.firstTokenMs } : {}),
        ...(group.lastTokenMs !== undefined ? { lastTokenMs: group.lastTokenMs } : {}),
      }),
    };
  }

  /** Requests running and waiting, and KV usage. */
  state(): { running: number; waiting: number; usedBlocks: number; numBlocks: number } {
    return {
      running: this.countStatus('running'),
      waiting: this.countStatus('waiting'),
      usedBlocks: this.manager.numBlocks - this.manager.numFreeBlocks(),
      numBlocks: this.manager.numBlocks,
    };
  }

  /** Generated tokens per second over the last 10 s of steps. */
  tokensPerSecond(): number {
    const now = this.now();
    const recent = this.recentSteps.filter((s) => now - s.t <= 10_000);
    if (recent.length === 0) return 0;
    const span = Math.max(now - recent[0]!.t, 1000);
    return (recent.reduce((a, s) => a + s.n, 0) * 1000) / span;
  }

  /** Expert load of the model's last step (MoE models), if it reports one. */
  expertLoad(): readonly (readonly number[])[] | undefined {
    return this.model.expertLoad?.();
  }

  /** Stops the loop; live requests are aborted and their blocks freed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) g.aborted = true;
    this.kick();
    await this.loop;
    this.reapAborted();
  }

  private countStatus(status: RequestGroup['status']): number {
    let n = 0;
    for (const g of this.groups.values()) if (g.status === status) n++;
    return n;
  }

  private newSequence(group: RequestGroup, choice: number, tokens: number[]): SequenceState {
    const seq = new SequenceState(this.nextSeqId++, choice, tokens, group.params.seed + choice);
    this.bySeq.set(seq.seqId, seq);
    return seq;
  }

  private kick(): void {
    if (!this.loop) {
      this.loop = this.run().finally(() => {
        this.loop = undefined;
      });
      return;
    }
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    // Start on a later turn: requests submitted in the same tick join the same first step,
    // and `submit` never runs the model inside its caller.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      this.reapAborted();
      if (this.stopped) return;
      if (this.groups.size === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      try {
        this.step();
      } catch (error) {
        this.failAll(error);
      }
      // Let the HTTP layer flush streamed tokens and accept new requests between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One engine iteration: admit, batch, run the model, sample. Exposed for tests. */
  step(): void {
    const started = this.now();
    const step = ++this.stepCount;
    this.admit(step);
    const batch = this.buildBatch(step);
    if (batch.entries.length === 0) return;
    const logits = this.model.step(batch.entries);
    let generated = 0;
    let row = 0;
    for (let i = 0; i < batch.entries.length; i++) {
      const entry = batch.entries[i]!;
      const rows = entry.allLogits ? logits.slice(row, row + entry.tokens.length) : [logits[row]!];
      row += rows.length;
      const seq = this.bySeq.get(entry.seqId)!;
      const group = batch.groupOf.get(entry.seqId)!;
      // Preempted earlier in this step (to make room for another's token): recomputed later.
      if (group.status !== 'running' || seq.finished !== undefined) continue;
      const draft = batch.drafts.get(entry.seqId);
      seq.numComputed += draft ? 1 : entry.tokens.length;
      group.servedTokens += entry.tokens.length;
      if (draft && !group.aborted) {
        generated += this.afterSpeculation(group, seq, rows, draft);
      } else if (seq.pending === 0 && !group.aborted) {
        generated += this.afterForward(group, seq, rows[0]!);
      }
      if (seq.finished === undefined && group.status === 'running') {
        this.markReady(this.manager.blockTable(seq.seqId), seq.numComputed);
      }
    }
    for (const g of new Set(batch.groupOf.values())) this.policy.onServed(g, step);
    this.generatedTokens += generated;
    const end = this.now();
    this.recentSteps.push({ t: end, n: generated });
    while (this.recentSteps.length > 0 && end - this.recentSteps[0]!.t > 10_000)
      this.recentSteps.shift();
    this.options.onStep?.({
      step,
      prefillTokens: batch.prefillTokens,
      decodeTokens: batch.decodeTokens,
      generatedTokens: generated,
      running: this.countStatus('running'),
      waiting: this.countStatus('waiting'),
      durationMs: this.now() - started,
    });
  }

  private admit(step: number): void {
    let running = this.countStatus('running');
    const waiting = [...this.groups.values()].filter((g) => g.status === 'waiting');
    for (const group of this.policy.order(waiting, step)) {
      if (running >= this.maxResident) return;
      const live = group.live();
      const added: SequenceState[] = [];
      for (const seq of live) {
        if (this.manager.canAdmit(seq.tokens, saltOf(group)) !== 'ok') break;
        const { numCachedTokens, blockTable } = this.manager.addSequence(
          seq.seqId,
          seq.tokens,
          saltOf(group),
        );
        seq.numComputed = this.usableCachedTokens(blockTable, numCachedTokens);
        added.push(seq);
      }
      if (added.length < live.length) {
        for (const seq of added) this.manager.free(seq.seqId);
        return; // keep the policy's order: nothing overtakes the head of the queue
      }
      group.status = 'running';
      running++;
    }
  }

  private buildBatch(step: number): {
    entries: ModelStepEntry[];
    groupOf: Map<number, RequestGroup>;
    drafts: Map<number, number[]>;
    prefillTokens: number;
    decodeTokens: number;
  } {
    const drafts = new Map<number, number[]>();
    const running = [...this.groups.values()].filter((g) => g.status === 'running');
    const entries: ModelStepEntry[] = [];
    const groupOf = new Map<number, RequestGroup>();
    let budget = this.maxBatchTokens;
    let prefillTokens = 0;
    let decodeTokens = 0;
    // The policy picks which resident requests run this step (MLFQ pauses the others).
    const ordered = this.policy.order(running, step).slice(0, this.maxRunning);
    // Decodes first (one token each), then prompt chunks with what is left.
    for (const phase of ['decode', 'prefill'] as const) {
      for (const group of ordered) {
        for (const seq of group.live()) {
          const pending = seq.pending;
          const isDecode = pending === 1 && seq.numOutput > 0;
          if (pending === 0 || isDecode !== (phase === 'decode') || budget === 0) continue;
          const take = Math.min(pending, budget);
          budget -= take;
          if (isDecode) decodeTokens += take;
          else prefillTokens += take;
          const draft = isDecode ? this.draftFor(group, seq, budget) : [];
          budget -= draft.length;
          if (draft.length > 0) drafts.set(seq.seqId, draft);
          entries.push({
            seqId: seq.seqId,
            tokens: Int32Array.from([
              ...seq.tokens.slice(seq.numComputed, seq.numComputed + take),
              ...draft,
            ]),
            startPos: seq.numComputed,
            blockTable: this.manager.blockTable(seq.seqId),
            ...(draft.length > 0 ? { allLogits: true } : {}),
          });
          groupOf.set(seq.seqId, group);
        }
      }
    }
    return { entries, groupOf, drafts, prefillTokens, decodeTokens };
  }

  /** A draft for a greedy decode, its slots already appended to the sequence's blocks. */
  private draftFor(group: RequestGroup, seq: SequenceState, budget: number): number[] {
    const spec = this.options.speculation;
    if (!spec || group.params.temperature !== 0) return [];
    const room = Math.min(
      spec.numDraftTokens ?? 4,
      group.params.maxTokens - seq.numOutput - 1,
      this.model.maxContextLength - seq.tokens.length - 1,
      budget,
    );
    if (room < 1) return [];
    const { tokens } = spec.drafter.propose(seq.tokens, room);
    if (tokens.length === 0 || !this.manager.canAppend(seq.seqId, tokens.length)) return [];
    const { copies, newBlocks } = this.manager.appendTokens(seq.seqId, tokens);
    for (const b of newBlocks) this.readyBlocks.delete(b);
    if (copies.length > 0) this.model.copyBlocks(copies);
    return tokens;
  }

  /** Samples after a sequence's last token was computed; returns tokens generated. */
  private afterForward(group: RequestGroup, seq: SequenceState, logits: Float32Array): number {
    const params = group.params;
    // The prompt's last logits row seeds every choice: fork the prompt's blocks n-1 times.
    const targets: SequenceState[] = [seq];
    if (seq.numOutput === 0 && group.seqs.length < params.n) {
      for (let c = 1; c < params.n; c++) {
        const child = this.newSequence(group, c, [...seq.tokens]);
        child.numComputed = seq.numComputed;
        this.manager.fork(seq.seqId, child.seqId);
        group.seqs.push(child);
        targets.push(child);
      }
    }
    let generated = 0;
    for (const target of targets) {
      const sampled = sampleToken(logits, params, target.rng);
      generated++;
      if (this.accept(group, target, sampled) === 'continue') {
        this.appendOrPreempt(group, target, sampled.token);
      }
    }
    this.maybeFinishGroup(group);
    return generated;
  }

  /**
   * Reports a generated token and decides whether its sequence goes on: EOS
   * and stop ids end it without the token, the length limits end it after.
   */
  private accept(
    group: RequestGroup,
    seq: SequenceState,
    sampled: SampledToken,
  ): 'continue' | 'finished' {
    const params = group.params;
    const now = this.now();
    group.firstTokenMs ??= now;
    group.lastTokenMs = now;
    seq.numOutput++;
    if (this.eos.has(sampled.token) || params.stopTokenIds.includes(sampled.token)) {
      this.finishSequence(group, seq, 'stop');
      return 'finished';
    }
    group.events.push({ type: 'token', choice: seq.choice, sampled });
    if (seq.numOutput >= params.maxTokens || seq.tokens.length + 1 >= this.model.maxContextLength) {
      seq.tokens.push(sampled.token);
      this.finishSequence(group, seq, 'length');
      return 'finished';
    }
    return 'continue';
  }

  /**
   * Verifies a draft fed after the sequence's last token: rows[i] are the
   * logits after draft token i−1. Draft tokens the greedy choice agrees with
   * are kept (their K/V are already in the cache), the first disagreement is
   * replaced by the model's own token, and the cache is cut back to what was
   * verified, so the output equals plain greedy decoding.
   */
  private afterSpeculation(
    group: RequestGroup,
    seq: SequenceState,
    rows: readonly Float32Array[],
    draft: readonly number[],
  ): number {
    const base = seq.tokens.length;
    let accepted = 0;
    let generated = 0;
    for (let i = 0; i <= draft.length; i++) {
      const sampled = sampleToken(rows[i]!, group.params, seq.rng);
      generated++;
      if (this.accept(group, seq, sampled) === 'finished') break;
      if (i < draft.length && sampled.token === draft[i]) {
        seq.tokens.push(sampled.token);
        seq.numComputed++;
        accepted++;
        continue;
      }
      this.manager.truncate(seq.seqId, base + accepted);
      this.appendOrPreempt(group, seq, sampled.token);
      break;
    }
    this.draftedTokens += draft.length;
    this.acceptedTokens += accepted;
    this.maybeFinishGroup(group);
    return generated;
  }

  /** Appends the sampled token's slot, preempting lower-priority requests when the pool is full. */
  private appendOrPreempt(group: RequestGroup, seq: SequenceState, token: number): void {
    seq.tokens.push(token);
    while (!this.manager.canAppend(seq.seqId, 1)) {
      const victim = this.pickVictim(group);
      this.preempt(victim);
      if (victim === group) return; // its tokens (incl. this one) are recomputed on re-admission
    }
    const { copies, newBlocks } = this.manager.appendTokens(seq.seqId, [token]);
    for (const b of newBlocks) this.readyBlocks.delete(b);
    if (copies.length > 0) this.model.copyBlocks(copies);
  }

  /** Cached tokens whose blocks are computed; fresh blocks are marked not ready. */
  private usableCachedTokens(table: readonly number[], numCached: number): number {
    let usable = numCached;
    for (let i = 0; i < table.length; i++) {
      const start = i * this.blockSize;
      if (start < numCached) {
        if (!this.readyBlocks.has(table[i]!)) usable = Math.min(usable, start);
      } else this.readyBlocks.delete(table[i]!);
    }
    return usable;
  }

  private markReady(table: readonly number[], numComputed: number): void {
    const full = Math.floor(numComputed / this.blockSize);
    for (let i = 0; i < full && i < table.length; i++) this.readyBlocks.add(table[i]!);
  }

  private pickVictim(current: RequestGroup): RequestGroup {
    const running = [...this.groups.values()].filter((g) => g.status === 'running');
    const ordered = this.policy.order(running, this.stepCount);
    // The least urgent running request other than `current`, else `current` itself.
    for (let i = ordered.length - 1; i >= 0; i--) if (ordered[i] !== current) return ordered[i]!;
    return current;
  }

  private preempt(group: RequestGroup): void {
    for (const seq of group.live()) {
      // The sampled-but-unappended token stays in seq.tokens; recompute restores everything.
      if (this.manager.sequenceIds().includes(seq.seqId))
        this.manager.preemptByRecompute(seq.seqId);
      seq.numComputed = 0;
    }
    group.status = 'waiting';
    group.preemptions++;
  }

  private finishSequence(group: RequestGroup, seq: SequenceState, reason: FinishReason): void {
    seq.finished = reason;
    if (reason !== 'abort') this.options.speculation?.drafter.observe(seq.tokens);
    if (group.status === 'running' && this.manager.sequenceIds().includes(seq.seqId)) {
      this.manager.free(seq.seqId);
    }
    this.bySeq.delete(seq.seqId);
    group.events.push({ type: 'finish', choice: seq.choice, reason });
  }

  private maybeFinishGroup(group: RequestGroup): void {
    if (group.status === 'finished') return;
    const expected = Math.max(group.params.n, group.seqs.length);
    const done = group.seqs.filter((s) => s.finished !== undefined).length;
    if (group.seqs.length === expected && done === expected) this.closeGroup(group);
  }

  private closeGroup(group: RequestGroup): void {
    group.status = 'finished';
    this.groups.delete(group.id);
    group.events.close();
  }

  private reapAborted(): void {
    for (const group of [...this.groups.values()]) {
      if (!group.aborted) continue;
      for (const seq of group.live()) this.finishSequence(group, seq, 'abort');
      // Choices never forked (abort before the prompt finished) are reported too.
      for (let c = group.seqs.length; c < group.params.n; c++) {
        group.events.push({ type: 'finish', choice: c, reason: 'abort' });
      }
      this.closeGroup(group);
    }
  }

  private failAll(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    for (const group of [...this.groups.values()]) {
      for (const seq of group.live()) {
        if (this.manager.sequenceIds().includes(seq.seqId)) this.manager.free(seq.seqId);
        seq.finished = 'abort';
      }
      group.events.push({ type: 'error', message: `model step failed: ${message}` });
      this.closeGroup(group);
    }
  }
}

function saltOf(group: RequestGroup): { salt?: string } {
  return group.salt !== undefined ? { salt: group.salt } : {};
}
