import { SeededRandom } from '@plexus/tensor';
import { BlockManager } from '../src/index.js';
import { now } from './workload.js';

/** Operations per second of the block manager, by operation. */
export interface OpsRow {
  readonly op: string;
  readonly count: number;
  readonly opsPerSecond: number;
}

/**
 * Time each block-manager operation on a steady-state workload: sequences of
 * 161-token prompts, decoding one token per append, forked 1 time in 4
 * (parallel sampling), freed when done. Prefix caching on, debug off.
 */
export function blockManagerOps(numSequences: number, seed: number): OpsRow[] {
  const rand = new SeededRandom(seed);
  const m = new BlockManager({ numBlocks: 8192, blockSize: 16, watermark: 0.01 });
  const time = { add: 0, append: 0, fork: 0, free: 0 };
  const count = { add: 0, append: 0, fork: 0, free: 0 };
  const live: number[] = [];
  let nextId = 0;
  for (let n = 0; n < numSequences; n++) {
    const prompt = Array.from({ length: 161 }, () => rand.int(32000));
    while (m.canAdmit(prompt) !== 'ok' || live.length >= 64) {
      const id = live.shift()!;
      const t = now();
      m.free(id);
      time.free += now() - t;
      count.free++;
    }
    const id = nextId++;
    let t = now();
    m.addSequence(id, prompt);
    time.add += now() - t;
    count.add++;
    live.push(id);
    if (rand.uniform() < 0.25) {
      t = now();
      m.fork(id, nextId);
      time.fork += now() - t;
      count.fork++;
      live.push(nextId++);
    }
    const token = [0];
    for (let s = 0; s < 64; s++) {
      const target = live[rand.int(live.length)]!;
      if (!m.canAppend(target)) break;
      token[0] = rand.int(32000);
      t = now();
      m.appendTokens(target, token);
      time.append += now() - t;
      count.append++;
    }
  }
  return (['add', 'append', 'fork', 'free'] as const).map((op) => ({
    op,
    count: count[op],
    opsPerSecond: (1000 * count[op]) / time[op],
  }));
}
