import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import type { RoutingTrace } from './trace.js';
import { checkTrace } from './trace.js';

/**
 * Eviction policy of the expert cache. `lru` and `lfu` (ties: least recently
 * used) look only at the past. `optimal` is Belady's MIN ("A study of
 * replacement algorithms for a virtual-storage computer", Belady, 1966):
 * evict the expert whose next use is farthest away, the best any policy can
 * do with the whole future known. `lookahead` sees `lookahead` tokens ahead
 * and evicts the expert used least often in them (ties: least recently
 * used), the policy behind SCH.
 */
export type CachePolicy = 'lru' | 'lfu' | 'optimal' | 'lookahead';

/** Settings of {@link simulateExpertCache}. */
export interface CacheSimSettings {
  /** Experts in the layer. */
  readonly numExperts: number;
  /** Experts the fast memory holds at once (C). */
  readonly capacity: number;
  /** Eviction policy. */
  readonly policy: CachePolicy;
  /** Window m of the `lookahead` policy, in tokens (the current token included). */
  readonly lookahead?: number;
  /**
   * Count loads into a not-yet-full cache as hits, i.e. the cache starts
   * preloaded with the first C distinct experts (as the SCH reference does);
   * default false (cold start).
   */
  readonly warmStart?: boolean;
}

/** Hits and misses of an expert-cache simulation. */
export interface CacheSimResult {
  /** Expert accesses found in the cache. */
  readonly hits: number;
  /** Expert accesses that had to load the expert. */
  readonly misses: number;
  /** `hits / (hits + misses)` (0 for an empty trace). */
  readonly hitRate: number;
}

/**
 * Expert-offloading cache simulation over a routing trace: each token's
 * experts are accessed in order; a miss loads the expert, evicting one
 * chosen by the policy when the cache is full.
 */
export function simulateExpertCache(
  trace: RoutingTrace,
  settings: CacheSimSettings,
): CacheSimResult {
  const { numExperts, capacity, policy } = settings;
  checkInt('cache-sim', 'numExperts', numExperts, 1);
  checkInt('cache-sim', 'capacity', capacity, 1, numExperts);
  if (!['lru', 'lfu', 'optimal', 'lookahead'].includes(policy)) {
    throw new MoeRoutingError(
      'cache-sim',
      `policy must be 'lru', 'lfu', 'optimal' or 'lookahead', got ${String(policy)}`,
    );
  }
  const window = settings.lookahead ?? 1;
  if (policy === 'lookahead') checkInt('cache-sim', 'lookahead', window, 1);
  checkTrace('cache-sim', trace, numExperts);
  const accesses: { token: number; expert: number }[] = [];
  trace.forEach((experts, token) => {
    for (const expert of experts) accesses.push({ token, expert });
  });
  const nextUse = policy === 'optimal' ? nextUseIndex(accesses, numExperts) : undefined;
  // Uses of each expert in tokens (t, t + m) not yet consumed: the lookahead priority.
  const future = new Float64Array(numExperts);
  if (policy === 'lookahead')
    for (let t = 0; t < Math.min(window, trace.length); t++) addTokens(future, trace[t]!, 1);
  const lastUse = new Float64Array(numExperts).fill(-1);
  const freq = new Float64Array(numExperts);
  const cached = new Set<number>();
  let hits = 0;
  let misses = 0;
  let currentToken = 0;
  accesses.forEach(({ token, expert }, i) => {
    if (policy === 'lookahead') {
      while (currentToken < token) {
        // Slide the window: token currentToken + m enters the lookahead.
        const entering = currentToken + window;
        if (entering < trace.length) addTokens(future, trace[entering]!, 1);
        currentToken++;
      }
    }
    if (cached.has(expert)) hits++;
    else {
      if (cached.size < capacity) {
        if (settings.warmStart) hits++;
        else misses++;
      } else {
        misses++;
        cached.delete(pickVictim(cached, policy, { lastUse, freq, future, nextUse, i }));
      }
      cached.add(expert);
    }
    lastUse[expert] = i;
    freq[expert]! += 1;
    if (policy === 'lookahead') future[expert]! -= 1;
  });
  const total = hits + misses;
  return { hits, misses, hitRate: total === 0 ? 0 : hits / total };
}

function addTokens(future: Float64Array, experts: readonly number[], delta: number): void {
  for (const e of experts) future[e]! += delta;
}

interface PolicyState {
  readonly lastUse: Float64Array;
  readonly freq: Float64Array;
  readonly future: Float64Array;
  readonly nextUse: Int32Array[] | undefined;
  readonly i: number;
}

function pickVictim(cached: Set<number>, policy: CachePolicy, s: PolicyState): number {
  let victim = -1;
  let worst: [number, number] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (const e of cached) {
    // Smaller key = evicted first; second component breaks ties by recency.
    let key: [number, number];
    if (policy === 'lru') key = [s.lastUse[e]!, 0];
    else if (policy === 'lfu') key = [s.freq[e]!, s.lastUse[e]!];
    else if (policy === 'lookahead') key = [s.future[e]!, s.lastUse[e]!];
    else key = [-nextAccessAfter(s.nextUse!, e, s.i), s.lastUse[e]!];
    if (key[0] < worst[0] || (key[0] === worst[0] && key[1] < worst[1])) {
      worst = key;
      victim = e;
    }
  }
  return victim;
}

/** Sorted access positions of each expert. */
function nextUseIndex(accesses: readonly { expert: number }[], numExperts: number): Int32Array[] {
  const lists: number[][] = Array.from({ length: numExperts }, () => []);
  accesses.forEach(({ expert }, i) => {
    lists[expert]!.push(i);
  });
  return lists.map((l) => Int32Array.from(l));
}

function nextAccessAfter(positions: Int32Array[], expert: number, i: number): number {
  const list = positions[expert]!;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= i) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo]! : Number.POSITIVE_INFINITY;
}
