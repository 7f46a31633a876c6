import { BlockManager } from '../src/index.js';
import { type Request, shareGptWorkload } from './workload.js';

/** Result of the memory-waste simulation for one allocator. */
export interface MemoryRow {
  readonly allocator: string;
  /** Time-averaged fraction of allocated KV slots not holding a token. */
  readonly wastePercent: number;
  /** Time-averaged fraction of the whole KV budget holding tokens (free memory counts against it). */
  readonly poolUsePercent: number;
  /** Time-averaged running sequences. */
  readonly meanConcurrency: number;
  /** Decode steps to finish every request. */
  readonly steps: number;
  readonly preemptions: number;
}

/**
 * Continuous-batching simulation over one request stream and one KV budget:
 * each step admits waiting requests while they fit, then every running
 * sequence decodes one token; finished sequences free their memory. Waste is
 * measured after every step as 1 - tokens held / token slots allocated.
 */
export function memoryWaste(options: {
  numRequests: number;
  seed: number;
  capacityTokens: number;
  blockSize: 8 | 16 | 32;
  maxModelLength: number;
}): { rows: MemoryRow[]; workload: { meanPrompt: number; meanOutput: number } } {
  const requests = shareGptWorkload(options.numRequests, options.seed, options.maxModelLength);
  const meanPrompt = requests.reduce((s, r) => s + r.prompt.length, 0) / requests.length;
  const meanOutput = requests.reduce((s, r) => s + r.outputLength, 0) / requests.length;
  return {
    rows: [paged(requests, options), contiguous(requests, options)],
    workload: { meanPrompt, meanOutput },
  };
}

function paged(
  requests: readonly Request[],
  o: { capacityTokens: number; blockSize: 8 | 16 | 32 },
): MemoryRow {
  const m = new BlockManager({
    numBlocks: o.capacityTokens / o.blockSize,
    blockSize: o.blockSize,
    watermark: 0.01,
    enablePrefixCaching: false,
  });
  // A preempted sequence keeps its generated tokens and re-prefills them.
  const waiting = requests.map((req) => ({ req, tokens: req.prompt, generated: 0 }));
  const running = new Map<number, { req: Request; generated: number }>();
  let steps = 0;
  let wasteSum = 0;
  let useSum = 0;
  let concurrencySum = 0;
  let preemptions = 0;
  while (waiting.length > 0 || running.size > 0) {
    while (waiting.length > 0 && m.canAdmit(waiting[0]!.tokens) === 'ok') {
      const w = waiting.shift()!;
      m.addSequence(w.req.id, w.tokens);
      running.set(w.req.id, { req: w.req, generated: w.generated });
    }
    for (const [id, s] of running) {
      while (!m.canAppend(id)) {
        // Preempt the newest other sequence by recompute (vLLM's default).
        const victim = [...running.keys()].reverse().find((v) => v !== id);
        if (victim === undefined) throw new Error('a single sequence does not fit the pool');
        const { tokens } = m.preemptByRecompute(victim);
        waiting.unshift({ ...running.get(victim)!, tokens: tokens.slice() });
        running.delete(victim);
        preemptions++;
      }
      m.appendTokens(id, [s.generated & 1023]);
      s.generated++;
    }
    // Measure after the decode step, before finished sequences free memory.
    let tokens = 0;
    for (const s of running.values()) tokens += s.req.prompt.length + s.generated;
    const allocated = (m.numBlocks - m.numFreeBlocks()) * m.blockSize;
    wasteSum += allocated > 0 ? 1 - tokens / allocated : 0;
    useSum += tokens / o.capacityTokens;
    concurrencySum += running.size;
    steps++;
    for (const [id, s] of running) {
      if (s.generated >= s.req.outputLength) {
        m.free(id);
        running.delete(id);
      }
    }
  }
  return {
    allocator: `paged (block ${o.blockSize})`,
    wastePercent: (100 * wasteSum) / steps,
    poolUsePercent: (100 * useSum) / steps,
    meanConcurrency: concurrencySum / steps,
    steps,
    preemptions,
  };
}

/** Baseline: each sequence reserves `maxModelLength` contiguous slots at admission. */
function contiguous(
  requests: readonly Request[],
  o: { capacityTokens: number; maxModelLength: number },
): MemoryRow {
  const slots = Math.floor(o.capacityTokens / o.maxModelLength);
  const waiting = [...requests];
  const running: { req: Request; generated: number }[] = [];
  let steps = 0;
  let wasteSum = 0;
  let useSum = 0;
  let concurrencySum = 0;
  while (waiting.length > 0 || running.length > 0) {
    while (waiting.length > 0 && running.length < slots)
      running.push({ req: waiting.shift()!, generated: 0 });
    let tokens = 0;
    for (const s of running) {
      s.generated++;
      tokens += s.req.prompt.length + s.generated;
    }
    wasteSum += 1 - tokens / (running.length * o.maxModelLength);
    useSum += tokens / o.capacityTokens;
    concurrencySum += running.length;
    steps++;
    for (let i = running.length - 1; i >= 0; i--)
      if (running[i]!.generated >= running[i]!.req.outputLength) running.splice(i, 1);
  }
  return {
    allocator: `contiguous max-length reservation (${o.maxModelLength} tokens)`,
    wastePercent: (100 * wasteSum) / steps,
    poolUsePercent: (100 * useSum) / steps,
    meanConcurrency: concurrencySum / steps,
    steps,
    preemptions: 0,
  };
}
