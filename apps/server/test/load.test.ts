import autocannon from 'autocannon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { skipJoinMlfqPolicy } from '../src/engine/scheduler-policy.js';
import { toyServer } from './toy-server.js';

const server = toyServer({
  eosTokenIds: [],
  numBlocks: 48,
  maxRunning: 8,
  maxWaiting: 512,
  policy: skipJoinMlfqPolicy(),
});
const { engine } = server;
let base = '';

beforeAll(async () => {
  await server.listen();
  base = server.base;
});
afterAll(() => server.close());

async function drained(): Promise<void> {
  for (let i = 0; i < 300 && engine.manager.sequenceIds().length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('a bounded load (autocannon, 16 connections, mixed streaming) leaves every KV block free', async () => {
  const result = await autocannon({
    url: base,
    connections: 16,
    amount: 160,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/completions',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req, context) => {
          const ctx = context as { i?: number };
          const i = (ctx.i ?? 0) + 1;
          ctx.i = i;
          return {
            ...req,
            body: JSON.stringify({
              prompt: `request ${i % 7} shares a system prompt, then ${'x'.repeat(i % 13)}`,
              max_tokens: 4 + (i % 9),
              temperature: i % 2 ? 0 : 0.7,
              seed: i,
              stream: i % 3 === 0,
            }),
          };
        },
      },
    ],
  });
  expect(result.errors).toBe(0);
  expect(result.non2xx).toBe(0);
  expect(result['2xx']).toBe(160);
  await drained();
  expect(engine.manager.sequenceIds()).toEqual([]);
  expect(engine.state().usedBlocks).toBe(0);
  engine.manager.checkInvariants();
  expect(engine.manager.stats().prefixHits).toBeGreaterThan(0);
}, 120_000);

it('cancellation under load: aborted streams free their blocks while the rest finish', async () => {
  const requests = Array.from({ length: 24 }, (_, i) => {
    const controller = new AbortController();
    const done = fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: `cancel test ${i}`,
        max_tokens: 48,
        temperature: 1,
        seed: i,
        stream: true,
      }),
      signal: controller.signal,
    }).then(
      async (res) => {
        const reader = res.body!.getReader();
        let chunks = 0;
        for (;;) {
          const { done: end } = await reader.read();
          if (end) return 'finished';
          if (++chunks === 2 && i % 2 === 0) controller.abort();
        }
      },
      () => 'aborted',
    );
    return done.catch(() => 'aborted');
  });
  const outcomes = await Promise.all(requests);
  expect(outcomes.filter((o) => o === 'finished').length).toBe(12);
  await drained();
  expect(engine.manager.sequenceIds()).toEqual([]);
  expect(engine.state().usedBlocks).toBe(0);
}, 120_000);
