import type { BlockManager } from '@plexus/kv-cache';
import type { RequestGroup } from './request-group.js';

/** Decides which requests run first; the engine asks it every step. */
export interface SchedulerPolicy {
  readonly name: string;
  /** Sets a new request's starting priority. */
  onArrival(group: RequestGroup): void;
  /** Accounts the engine iterations a request just took part in. */
  onServed(group: RequestGroup, step: number): void;
  /** Most urgent first. Must be a stable order for equal priorities (arrival order). */
  order(groups: readonly RequestGroup[], step: number): RequestGroup[];
  /** Called once by the engine with its block manager (for cache-aware policies). */
  bind?(manager: BlockManager): void;
}

/**
 * Cache-aware ordering as SGLang's longest-prefix-match policy ("SGLang:
 * Efficient Execution of Structured Language Model Programs", Zheng et al.,
 * 2024): waiting requests whose prompts have the most tokens in the prefix
 * cache go first, so shared prefixes are reused before eviction; running
 * requests keep arrival order.
 */
export function cacheAwarePolicy(): SchedulerPolicy {
  let manager: BlockManager | undefined;
  const cached = (g: RequestGroup): number => {
    if (g.status !== 'waiting' || !manager) return 0;
    const seq = g.seqs[0];
    return seq
      ? manager.cachedPrefixLength(seq.tokens, g.salt !== undefined ? { salt: g.salt } : {})
      : 0;
  };
  return {
    name: 'lpm',
    bind(m) {
      manager = m;
    },
    onArrival() {},
    onServed(group, step) {
      group.lastRunStep = step;
    },
    order(groups) {
      const keyed = groups.map((g) => ({ g, k: cached(g) }));
      keyed.sort((a, b) => b.k - a.k || a.g.id - b.g.id);
      return keyed.map((x) => x.g);
    },
  };
}

/** First come, first served: arrival order, no preemption for priority. */
export function fcfsPolicy(): SchedulerPolicy {
  return {
    name: 'fcfs',
    onArrival() {},
    onServed(group, step) {
      group.lastRunStep = step;
    },
    order: (groups) => [...groups].sort((a, b) => a.id - b.id),
  };
}

/** Settings of {@link skipJoinMlfqPolicy}. */
export interface MlfqSettings {
  /** Queues (levels); default 6. */
  readonly levels?: number;
  /** Iterations a request may take at level 0 before demotion; level i gets `base · 2^i`. Default 4. */
  readonly baseQuantum?: number;
  /** Prompt tokens one iteration prefills (the engine's chunk), to estimate the first iteration's cost; default 256. */
  readonly prefillTokensPerIteration?: number;
  /** A request that has not run for this many steps is promoted to level 0; default 200. */
  readonly starvationSteps?: number;
}

/**
 * Skip-join multi-level feedback queue of FastServe ("Fast Distributed
 * Inference Serving for Large Language Models", Wu et al., 2023): a request
 * joins the highest queue whose quantum covers its first (prefill)
 * iteration instead of always the top one, is demoted each time it uses up
 * its level's quantum, and is promoted back to the top after waiting too
 * long, so short jobs overtake long ones (lower mean completion time) without
 * starving them. Scheduling is per iteration, as continuous batching allows.
 */
export function skipJoinMlfqPolicy(settings: MlfqSettings = {}): SchedulerPolicy {
  const levels = settings.levels ?? 6;
  const base = settings.baseQuantum ?? 4;
  const chunk = settings.prefillTokensPerIteration ?? 256;
  const starvation = settings.starvationSteps ?? 200;
  const quantum = (level: number) => base * 2 ** level;
  const usedAtLevel = new WeakMap<RequestGroup, number>();
  return {
    name: 'mlfq',
    onArrival(group) {
      const firstIteration = Math.ceil(group.promptTokens.length / chunk);
      let level = 0;
      while (level < levels - 1 && quantum(level) < firstIteration) level++;
      group.level = level;
      usedAtLevel.set(group, 0);
    },
    onServed(group, step) {
      group.lastRunStep = step;
      const used = (usedAtLevel.get(group) ?? 0) + 1;
      if (used >= quantum(group.level) && group.level < levels - 1) {
        group.level++;
        usedAtLevel.set(group, 0);
      } else usedAtLevel.set(group, used);
    },
    order(groups, step) {
      for (const g of groups) {
        if (
          g.level > 0 &&
          step - Math.max(g.lastRunStep, 0) > starvation &&
          g.status !== 'finished'
        ) {
          g.level = 0;
          usedAtLevel.set(g, 0);
        }
      }
      return [...groups].sort((a, b) => a.level - b.level || a.id - b.id);
    },
  };
}
