import { SeededRandom } from '@plexus/tensor';
import { BlockManager, RadixTree } from '../src/index.js';
import { logNormalLength } from './workload.js';

/** Prefix-cache hit rates on a shared-system-prompt workload. */
export interface PrefixRow {
  readonly index: string;
  /** Prompt tokens served from cache / prompt tokens. */
  readonly hitRatePercent: number;
  /** Hit rate if every shared system-prompt token after its first use hit. */
  readonly idealPercent: number;
  /** Blocks (block manager) or tokens (radix tree) evicted. */
  readonly evicted: number;
  readonly evictedUnit: 'blocks' | 'tokens';
}

interface PrefixRequest {
  readonly prompt: number[];
  readonly outputLength: number;
}

function workload(count: number, seed: number, systemPrompts: number, systemLength: number) {
  const rand = new SeededRandom(seed);
  const systems = Array.from({ length: systemPrompts }, () =>
    Array.from({ length: systemLength }, () => rand.int(32000)),
  );
  const requests: PrefixRequest[] = Array.from({ length: count }, () => {
    const system = systems[rand.int(systemPrompts)]!;
    const user = Array.from({ length: logNormalLength(rand, 161, 1024) }, () => rand.int(32000));
    return { prompt: [...system, ...user], outputLength: logNormalLength(rand, 338, 1024) };
  });
  const used = new Set<number[]>();
  let ideal = 0;
  let total = 0;
  for (const r of requests) {
    total += r.prompt.length;
    const system = systems.find((s) => s[0] === r.prompt[0] && s[1] === r.prompt[1])!;
    if (used.has(system)) ideal += systemLength;
    used.add(system);
  }
  return { requests, idealPercent: (100 * ideal) / total };
}

/**
 * Block-manager prefix caching under continuous batching with memory
 * pressure (cached free blocks are evicted LRU when the pool runs short), and
 * the radix tree with FIFO versus cache-aware (longest-prefix-first) order at
 * a token capacity that holds only some of the system prompts.
 */
export function prefixHitRates(seed: number): PrefixRow[] {
  const { requests, idealPercent } = workload(600, seed, 8, 512);
  const blockSize = 16;
  const m = new BlockManager({ numBlocks: 2048, blockSize, watermark: 0.01 });
  let cached = 0;
  let promptTokens = 0;
  // A preempted request re-prefills prompt + generated tokens; only first
  // admissions count towards the hit rate (re-admissions hit their own blocks).
  const waiting = requests.map((r, id) => ({
    ...r,
    id,
    tokens: r.prompt,
    generated: 0,
    first: true,
  }));
  const running = new Map<number, (typeof waiting)[number]>();
  while (waiting.length > 0 || running.size > 0) {
    while (waiting.length > 0 && m.canAdmit(waiting[0]!.tokens) === 'ok') {
      const r = waiting.shift()!;
      const hit = m.addSequence(r.id, r.tokens).numCachedTokens;
      if (r.first) {
        cached += hit;
        promptTokens += r.prompt.length;
      }
      running.set(r.id, { ...r, first: false });
    }
    for (const [id, s] of running) {
      while (!m.canAppend(id)) {
        const victim = [...running.keys()].reverse().find((v) => v !== id)!;
        const { tokens } = m.preemptByRecompute(victim);
        waiting.unshift({ ...running.get(victim)!, tokens: tokens.slice() });
        running.delete(victim);
      }
      m.appendTokens(id, [s.generated++]);
      if (s.generated >= s.outputLength) {
        m.free(id);
        running.delete(id);
      }
    }
  }
  const rows: PrefixRow[] = [
    {
      index: 'block manager: chained block hashes (block 16, 2048 blocks, continuous batching)',
      hitRatePercent: (100 * cached) / promptTokens,
      idealPercent,
      evicted: m.stats().evictions,
      evictedUnit: 'blocks',
    },
  ];
  for (const order of ['fifo', 'cache-aware'] as const) {
    const tree = new RadixTree<number>();
    const capacity = 3 * 512 + 2000; // about three system prompts plus user turns
    const queue = [...requests];
    while (queue.length > 0) {
      const window = queue.slice(0, 32).map((r) => r.prompt);
      const pick = order === 'fifo' ? 0 : tree.cacheAwareOrder(window)[0]!;
      const [r] = queue.splice(pick, 1);
      tree.matchPrefix(r!.prompt);
      tree.insert(
        r!.prompt,
        r!.prompt.map((_, i) => i),
      );
      if (tree.size > capacity) tree.evict(tree.size - capacity);
    }
    const stats = tree.stats();
    rows.push({
      index: `radix tree: ${order} order, capacity ${capacity} tokens, window 32`,
      hitRatePercent: (100 * stats.hitTokens) / stats.queriedTokens,
      idealPercent,
      evicted: stats.evictedTokens,
      evictedUnit: 'tokens',
    });
  }
  return rows;
}
