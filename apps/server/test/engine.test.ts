import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import { Engine, EngineRejection } from '../src/engine/engine.js';
import { sampleToken } from '../src/engine/sampling.js';
import { greedySampling, type SamplingParams } from '../src/engine/sampling-params.js';
import { cacheAwarePolicy, skipJoinMlfqPolicy } from '../src/engine/scheduler-policy.js';
import { collect, randomPrompt } from './engine-helpers.js';
import { TOY_VOCAB, ToyPagedModel } from './toy-model.js';

const greedy = greedySampling;
const prompt = randomPrompt;

describe('engine: continuous batching over the paged cache', () => {
  it('greedy outputs equal the dense reference, with chunked prefill mixed into decodes', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const engine = new Engine({
      model,
      eosTokenIds: [0],
      numBlocks: 64,
      blockSize: 8,
      maxBatchTokens: 24,
    });
    const prompts = [prompt(1, 5), prompt(2, 40), prompt(3, 17), prompt(4, 1)];
    const handles = prompts.map((p) => engine.submit({ promptTokens: p, params: greedy(12) }));
    const results = await Promise.all(handles.map(collect));
    results.forEach((r, i) => {
      expect(r.tokens[0] ?? []).toEqual(model.referenceGreedy(prompts[i]!, 12, 0));
    });
    expect(engine.manager.sequenceIds()).toEqual([]);
    expect(engine.manager.numFreeBlocks()).toBe(64);
    engine.manager.checkInvariants();
    await engine.stop();
  });

  it('a shared prompt prefix is computed once and reused, with equal outputs', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const engine = new Engine({ model, eosTokenIds: [0], numBlocks: 64, blockSize: 8 });
    const system = prompt(7, 32);
    const a = [...system, ...prompt(8, 3)];
    const b = [...system, ...prompt(9, 5)];
    const first = await collect(engine.submit({ promptTokens: a, params: greedy(6) }));
    const before = model.tokensProcessed;
    // Same step admission: both share blocks that the first is still computing.
    const [second, third] = await Promise.all([
      collect(engine.submit({ promptTokens: b, params: greedy(6) })),
      collect(engine.submit({ promptTokens: a, params: greedy(6) })),
    ]);
    expect(first.tokens[0]).toEqual(model.referenceGreedy(a, 6, 0));
    expect(second.tokens[0] ?? []).toEqual(model.referenceGreedy(b, 6, 0));
    expect(third.tokens[0]).toEqual(first.tokens[0]);
    // The 32-token system prompt (4 blocks) was not recomputed for the later requests.
    expect(model.tokensProcessed - before).toBeLessThan(b.length + a.length);
    expect(engine.manager.stats().prefixHits).toBeGreaterThanOrEqual(8);
    await engine.stop();
  });

  it('n > 1 forks the prompt: seeded choices are reproducible and follow the reference sampler', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const params: SamplingParams = {
      ...greedy(10),
      temperature: 0.9,
      topP: 0.95,
      topK: 20,
      seed: 42,
      n: 3,
    };
    const p = prompt(11, 13);
    const run = async () => {
      const engine = new Engine({ model, eosTokenIds: [0], numBlocks: 32, blockSize: 8 });
      const r = await collect(engine.submit({ promptTokens: p, params }));
      expect(engine.manager.numFreeBlocks()).toBe(32);
      await engine.stop();
      return r;
    };
    const r1 = await run();
    const r2 = await run();
    expect(r2.tokens).toEqual(r1.tokens);
    for (let c = 0; c < 3; c++) {
      const rng = new SeededRandom(42 + c);
      const tokens = [...p];
      const expected: number[] = [];
      for (let i = 0; i < 10; i++) {
        const s = sampleToken(model.referenceLogits(tokens), params, rng);
        if (s.token === 0) break;
        expected.push(s.token);
        tokens.push(s.token);
      }
      expect(r1.tokens[c] ?? []).toEqual(expected);
    }
    expect(new Set(r1.tokens.map((t) => t?.join(','))).size).toBeGreaterThan(1);
  });

  it('preempts by recompute when the pool is full, and every block is free afterwards', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    // 12 blocks of 8 tokens: the six requests below need about 30 blocks at their peak.
    const engine = new Engine({
      model,
      eosTokenIds: [0],
      numBlocks: 12,
      blockSize: 8,
      maxBatchTokens: 64,
    });
    const prompts = Array.from({ length: 6 }, (_, i) => prompt(20 + i, 9 + i));
    const results = await Promise.all(
      prompts.map((p) =>
        collect(engine.submit({ promptTokens: p, params: greedy(24, { stopTokenIds: [] }) })),
      ),
    );
    results.forEach((r, i) => {
      expect(r.tokens[0] ?? []).toEqual(model.referenceGreedy(prompts[i]!, 24, 0));
    });
    expect(engine.manager.stats().recomputePreemptions).toBeGreaterThan(0);
    expect(engine.manager.numFreeBlocks()).toBe(12);
    engine.manager.checkInvariants();
    await engine.stop();
  });

  it('abort frees the request’s blocks and reports finish_reason abort', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const engine = new Engine({ model, eosTokenIds: [], numBlocks: 32, blockSize: 8 });
    const handle = engine.submit({ promptTokens: prompt(30, 10), params: greedy(200) });
    const reasons: string[] = [];
    let n = 0;
    for await (const e of handle.events) {
      if (e.type === 'token' && ++n === 3) handle.abort();
      if (e.type === 'finish') reasons.push(e.reason);
    }
    expect(reasons).toEqual(['abort']);
    expect(engine.manager.numFreeBlocks()).toBe(32);
    await engine.stop();
  });

  it('refuses requests when the queue is full and prompts that can never fit', async () => {
    const model = new ToyPagedModel(TOY_VOCAB, 64);
    const engine = new Engine({
      model,
      eosTokenIds: [0],
      numBlocks: 4,
      blockSize: 8,
      maxWaiting: 1,
    });
    expect(() => engine.submit({ promptTokens: prompt(1, 60), params: greedy(10) })).toThrow(
      /context of 64/,
    );
    expect(() => engine.submit({ promptTokens: prompt(1, 40), params: greedy(1) })).toThrow(
      EngineRejection,
    );
    const h = engine.submit({ promptTokens: prompt(1, 4), params: greedy(2) });
    expect(() => engine.submit({ promptTokens: prompt(2, 4), params: greedy(2) })).toThrow(
      /already waiting/,
    );
    await collect(h);
    await engine.stop();
  });

  it('skip-join MLFQ finishes short requests before a long one that arrived first (FCFS does not)', async () => {
    const finishOrder = async (policy?: ReturnType<typeof skipJoinMlfqPolicy>) => {
      const model = new ToyPagedModel(TOY_VOCAB);
      const engine = new Engine({
        model,
        eosTokenIds: [],
        numBlocks: 64,
        blockSize: 8,
        maxRunning: 1,
        ...(policy ? { policy } : {}),
      });
      const order: string[] = [];
      const long = collect(engine.submit({ promptTokens: prompt(40, 8), params: greedy(60) })).then(
        () => order.push('long'),
      );
      await new Promise((r) => setImmediate(r));
      const shorts = [1, 2, 3].map((i) =>
        collect(engine.submit({ promptTokens: prompt(40 + i, 4), params: greedy(3) })).then(() =>
          order.push(`short${i}`),
        ),
      );
      await Promise.all([long, ...shorts]);
      await engine.stop();
      return order;
    };
    expect(await finishOrder()).toEqual(['long', 'short1', 'short2', 'short3']);
    expect((await finishOrder(skipJoinMlfqPolicy({ baseQuantum: 2 }))).at(-1)).toBe('long');
  });
});

describe('cache-aware ordering', () => {
  it('admits the waiting request with the longest cached prefix first', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const engine = new Engine({
      model,
      eosTokenIds: [],
      numBlocks: 64,
      blockSize: 8,
      maxResident: 1,
      maxRunning: 1,
      policy: cacheAwarePolicy(),
    });
    const system = randomPrompt(50, 24);
    await collect(engine.submit({ promptTokens: [...system, 1], params: greedySampling(2) }));
    const order: string[] = [];
    const blocker = collect(
      engine.submit({ promptTokens: randomPrompt(51, 4), params: greedySampling(6) }),
    );
    const cold = collect(
      engine.submit({ promptTokens: randomPrompt(52, 30), params: greedySampling(2) }),
    ).then(() => order.push('cold'));
    const warm = collect(
      engine.submit({ promptTokens: [...system, 2, 3], params: greedySampling(2) }),
    ).then(() => order.push('warm'));
    await Promise.all([blocker, cold, warm]);
    expect(order).toEqual(['warm', 'cold']);
    await engine.stop();
  });
});
