import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { buildServer } from '../src/http/build-server.js';
import { TOY_VOCAB, ToyPagedModel, toyTokenizer } from './toy-model.js';
import { toyServer } from './toy-server.js';

const server = toyServer(
  { numBlocks: 96, maxWaiting: 64 },
  { maxTokens: 64, maxN: 4, bodyLimit: 4096 },
);
const { model, engine } = server;
let base = '';

beforeAll(async () => {
  await server.listen();
  base = server.base;
});
afterAll(() => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Reads an SSE response into its `data:` payloads. */
async function sse(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));
}

const greedyText = (promptText: string, maxTokens: number) =>
  toyTokenizer.decode(model.referenceGreedy(toyTokenizer.encode(promptText), maxTokens, 0));

describe('OpenAI-compatible HTTP API', () => {
  it('serves /health and /v1/models', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['toy']);
  });

  it('temperature-0 completion equals the model’s own greedy decode', async () => {
    const res = await post('/v1/completions', {
      model: 'toy',
      prompt: 'hello world',
      max_tokens: 20,
      temperature: 0,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      choices: { text: string; finish_reason: string }[];
      usage: Record<string, number>;
    };
    expect(body.choices[0]!.text).toBe(greedyText('hello world', 20));
    expect(body.usage.prompt_tokens).toBe(11);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens! + body.usage.completion_tokens!);
  });

  it('streams chat chunks: role first, content deltas, finish, usage, [DONE]', async () => {
    const messages = [{ role: 'user', content: 'tell me a story' }];
    const plain = (await (
      await post('/v1/chat/completions', { messages, max_tokens: 16, temperature: 0 })
    ).json()) as {
      choices: { message: { content: string } }[];
    };
    const res = await post('/v1/chat/completions', {
      messages,
      max_tokens: 16,
      temperature: 0,
      stream: true,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await sse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBeGreaterThan(0);
    const content = chunks
      .slice(0, -1)
      .map((c) => c.choices[0].delta.content ?? '')
      .join('');
    expect(content).toBe(plain.choices[0]!.message.content);
    expect(chunks.at(-2).choices[0].finish_reason).not.toBeNull();
  });

  it('cuts at a stop string and never streams part of it', async () => {
    const full = greedyText('abc', 40);
    const stop = full.slice(8, 11);
    const res = await post('/v1/completions', {
      prompt: 'abc',
      max_tokens: 40,
      temperature: 0,
      stop: [stop],
      stream: true,
    });
    const chunks = (await sse(res)).slice(0, -1).map((e) => JSON.parse(e));
    const texts = chunks
      .filter((c) => c.choices.length > 0)
      .map((c) => c.choices[0].text as string);
    const streamed = texts.join('');
    expect(streamed).toBe(full.slice(0, full.indexOf(stop)));
    expect(chunks.filter((c) => c.choices.length > 0).at(-1).choices[0].finish_reason).toBe('stop');
  });

  it('returns log-probabilities in OpenAI’s shapes', async () => {
    const c = (await (
      await post('/v1/completions', { prompt: 'abc', max_tokens: 3, temperature: 0, logprobs: 2 })
    ).json()) as {
      choices: {
        logprobs: {
          tokens: string[];
          token_logprobs: number[];
          top_logprobs: Record<string, number>[];
        };
      }[];
    };
    const lp = c.choices[0]!.logprobs;
    expect(lp.tokens).toHaveLength(3);
    expect(Object.keys(lp.top_logprobs[0]!)).toHaveLength(2);
    // Greedy picks the most likely token: its log-probability is the top one.
    expect(lp.token_logprobs[0]).toBeCloseTo(Math.max(...Object.values(lp.top_logprobs[0]!)), 6);
    const chat = (await (
      await post('/v1/chat/completions', {
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
        logprobs: true,
        top_logprobs: 1,
      })
    ).json()) as { choices: { logprobs: { content: { token: string; bytes: number[] }[] } }[] };
    expect(chat.choices[0]!.logprobs.content[0]!.bytes).toEqual([
      ...Buffer.from(chat.choices[0]!.logprobs.content[0]!.token),
    ]);
  });

  it('seeded sampling is reproducible; n returns that many choices', async () => {
    const body = { prompt: 'seed test', max_tokens: 12, temperature: 1, seed: 7, n: 3 };
    const a = (await (await post('/v1/completions', body)).json()) as {
      choices: { text: string }[];
    };
    const b = (await (await post('/v1/completions', body)).json()) as {
      choices: { text: string }[];
    };
    expect(a.choices).toHaveLength(3);
    expect(b.choices.map((c) => c.text)).toEqual(a.choices.map((c) => c.text));
  });

  const badCases: [string, unknown, number, RegExp][] = [
    ['malformed JSON', '{"prompt": "x",', 400, /malformed JSON/],
    [
      'an unknown field',
      { prompt: 'x', colour: 'red' },
      400,
      /unknown field 'colour'; accepted fields/,
    ],
    [
      'a wrong type',
      { prompt: 'x', max_tokens: 'ten' },
      400,
      /'max_tokens' must be an integer in \[1, 64\]/,
    ],
    [
      'max_tokens over the limit',
      { prompt: 'x', max_tokens: 65 },
      400,
      /'max_tokens' must be an integer in \[1, 64\]/,
    ],
    ['n too large', { prompt: 'x', n: 5 }, 400, /'n' must be an integer in \[1, 4\]/],
    [
      'a prompt longer than the context',
      { prompt: 'a'.repeat(250), max_tokens: 10 },
      400,
      /exceeds the model's context of 256/,
    ],
    [
      'another model',
      { model: 'gpt-4', prompt: 'x' },
      404,
      /does not exist; this server serves 'toy'/,
    ],
    [
      'a body over the size limit',
      { prompt: 'x'.repeat(5000) },
      413,
      /larger than the limit of 4096 bytes/,
    ],
  ];
  for (const [what, body, status, message] of badCases) {
    it(`answers ${status} with OpenAI's error shape for ${what}`, async () => {
      const res = await post('/v1/completions', body);
      expect(res.status).toBe(status);
      const err = (await res.json()) as { error: { message: string; type: string } };
      expect(err.error.message).toMatch(message);
      expect(typeof err.error.type).toBe('string');
    });
  }

  it('validates chat bodies against the JSON schema, naming nested fields', async () => {
    const res = await post('/v1/chat/completions', {
      messages: [{ role: 'robot', content: 'hi' }],
    });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { message: string; param: string } };
    expect(err.error.message).toMatch(
      /^'messages\[0\]\.role' must be equal to one of the allowed values; 'messages' must be a non-empty array of \{role: 'system' \| 'user'/,
    );
    expect(err.error.param).toBe('messages');
  });

  it('a client that disconnects mid-stream frees its KV blocks', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'long one',
        max_tokens: 64,
        temperature: 1,
        seed: 1,
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    for (let i = 0; i < 100 && engine.state().usedBlocks > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(engine.state().usedBlocks).toBe(0);
    expect(engine.manager.sequenceIds()).toEqual([]);
  });

  it('exposes Prometheus metrics under vLLM’s names', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:time_per_output_token_seconds_bucket',
      'vllm:e2e_request_latency_seconds_count',
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:prefix_cache_hits_total',
      'vllm:generation_tokens_total',
    ]) {
      expect(text).toContain(name);
    }
  });
});

describe('API keys', () => {
  it('rejects /v1 requests without the bearer key, accepts them with it', async () => {
    const m = new ToyPagedModel(TOY_VOCAB);
    const e = new Engine({ model: m, eosTokenIds: [0], numBlocks: 16, blockSize: 8 });
    const { app: secured } = buildServer({
      engine: e,
      tokenizer: toyTokenizer,
      modelId: 'toy',
      vocabSize: TOY_VOCAB,
      apiKeys: ['s3cret'],
    });
    const denied = await secured.inject({ method: 'GET', url: '/v1/models' });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().error.code).toBe('invalid_api_key');
    const ok = await secured.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(ok.statusCode).toBe(200);
    expect((await secured.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    await secured.close();
    await e.stop();
  });

  it('answers 429 when the waiting queue is full', async () => {
    const m = new ToyPagedModel(TOY_VOCAB);
    const e = new Engine({
      model: m,
      eosTokenIds: [0],
      numBlocks: 16,
      blockSize: 8,
      maxWaiting: 1,
    });
    const { app: small } = buildServer({
      engine: e,
      tokenizer: toyTokenizer,
      modelId: 'toy',
      vocabSize: TOY_VOCAB,
    });
    const body = { prompt: 'abc', max_tokens: 4 };
    const [a, b] = await Promise.all([
      small.inject({ method: 'POST', url: '/v1/completions', payload: body }),
      small.inject({ method: 'POST', url: '/v1/completions', payload: body }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 429]);
    const refused = a.statusCode === 429 ? a : b;
    expect(refused.json().error.type).toBe('rate_limit_error');
    await small.close();
    await e.stop();
  });
});
