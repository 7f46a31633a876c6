import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { type Engine, EngineRejection, type GenerationHandle } from '../engine/engine.js';
import type { ServingTokenizerV1 } from '../engine/model.js';
import type { SamplingParams } from '../engine/sampling-params.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { type ChoiceDelta, ChoiceState, type TokenLogprob } from './choice-state.js';
import { badRequest, HttpError } from './openai-error.js';
import type { ParsedRequest } from './parse-request.js';

/** What the routes share. */
export interface ServeContext {
  readonly engine: Engine;
  readonly tokenizer: ServingTokenizerV1;
  readonly modelId: string;
  readonly vocabSize: number;
  readonly metrics: ServerMetrics;
}

function promptTokens(ctx: ServeContext, req: ParsedRequest): number[] {
  if (req.kind === 'chat') {
    return ctx.tokenizer.encode(
      ctx.tokenizer.applyChatTemplate(req.messages!, { addGenerationPrompt: true }),
    );
  }
  if (typeof req.prompt === 'string') return ctx.tokenizer.encode(req.prompt);
  const ids = [...req.prompt!];
  const bad = ids.find((t) => t >= ctx.vocabSize);
  if (bad !== undefined) {
    throw badRequest(
      `prompt token id ${bad} is outside the vocabulary [0, ${ctx.vocabSize})`,
      'prompt',
    );
  }
  return ids;
}

function submit(ctx: ServeContext, req: ParsedRequest, prompt: number[]): GenerationHandle {
  const params: SamplingParams = {
    maxTokens: req.maxTokens,
    temperature: req.temperature,
    topP: req.topP,
    topK: Math.max(req.topK, 0),
    seed: req.seed ?? Math.floor(Math.random() * 2 ** 31),
    n: req.n,
    logprobs: req.logprobs ?? 0,
    stopTokenIds: [],
  };
  try {
    return ctx.engine.submit({ promptTokens: prompt, params });
  } catch (error) {
    if (error instanceof EngineRejection) {
      throw error.kind === 'queue-full'
        ? new HttpError(
            429,
            `the server is busy: ${error.message}`,
            'rate_limit_error',
            null,
            'queue_full',
          )
        : new HttpError(
            400,
            error.message,
            'invalid_request_error',
            req.kind === 'chat' ? 'messages' : 'prompt',
            'context_length_exceeded',
          );
    }
    throw error;
  }
}

function completionLogprobs(lps: readonly TokenLogprob[], textOffset0: number) {
  let offset = textOffset0;
  const text_offset: number[] = [];
  for (const lp of lps) {
    text_offset.push(offset);
    offset += lp.token.length;
  }
  return {
    tokens: lps.map((l) => l.token),
    token_logprobs: lps.map((l) => l.logprob),
    top_logprobs: lps.map((l) => Object.fromEntries(l.top.map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}

function chatLogprobs(lps: readonly TokenLogprob[]) {
  const bytes = (s: string) => [...Buffer.from(s, 'utf8')];
  return {
    content: lps.map((l) => ({
      token: l.token,
      logprob: l.logprob,
      bytes: bytes(l.token),
      top_logprobs: l.top.map((t) => ({
        token: t.token,
        logprob: t.logprob,
        bytes: bytes(t.token),
      })),
    })),
  };
}

/**
 * Runs one completion or chat request through the engine: as one JSON
 * response, or as server-sent events in OpenAI's chunk format ending with a
 * usage chunk and `data: [DONE]`. A client that disconnects aborts the
 * request, which frees its KV blocks before the engine's next step.
 */
export async function runGeneration(
  ctx: ServeContext,
  req: ParsedRequest,
  reply: FastifyReply,
): Promise<void> {
  const prompt = promptTokens(ctx, req);
  const handle = submit(ctx, req, prompt);
  const id = `${req.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const object = req.kind === 'chat' ? 'chat.completion' : 'text_completion';
  const choices = Array.from(
    { length: req.n },
    () => new ChoiceState(ctx.tokenizer, req.stop, req.logprobs !== undefined),
  );
  let finished = false;
  // The response's 'close' before we finish means the client went away (the request's
  // 'close' only says its body was read).
  const onClose = () => {
    if (!finished) handle.abort();
  };
  reply.raw.on('close', onClose);
  ctx.metrics.promptTokens.inc(prompt.length);
  let lastToken = 0;
  let completionTokens = 0;

  const chunk = (index: number, delta: ChoiceDelta, first: boolean) => {
    const lp = req.logprobs !== undefined && delta.logprobs.length > 0;
    const choice =
      req.kind === 'chat'
        ? {
            index,
            delta: {
              ...(first ? { role: 'assistant' } : {}),
              ...(delta.text ? { content: delta.text } : {}),
            },
            logprobs: lp ? chatLogprobs(delta.logprobs) : null,
            finish_reason: delta.finishReason ?? null,
          }
        : {
            index,
            text: delta.text,
            logprobs: lp
              ? completionLogprobs(delta.logprobs, choices[index]!.text.length - delta.text.length)
              : null,
            finish_reason: delta.finishReason ?? null,
          };
    return {
      id,
      object: `${object}${req.kind === 'chat' ? '.chunk' : ''}`,
      created,
      model: ctx.modelId,
      choices: [choice],
    };
  };

  const write = (data: unknown) => {
    if (!reply.raw.writableEnded && !reply.raw.destroyed)
      reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  if (req.stream) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': id,
    });
  }
  const started = new Set<number>();
  let failure: string | undefined;
  try {
    for await (const event of handle.events) {
      if (event.type === 'error') {
        failure = event.message;
        break;
      }
      const state = choices[event.choice]!;
      let delta: ChoiceDelta;
      if (event.type === 'token') {
        completionTokens++;
        const now = performance.now();
        if (completionTokens === 1) {
          const { arrivalMs } = handle.timings();
          ctx.metrics.ttft.observe((Date.now() - arrivalMs) / 1000);
        } else ctx.metrics.itl.observe((now - lastToken) / 1000);
        lastToken = now;
        delta = state.onToken(event.sampled);
        if (delta.stopString) handle.stopChoice(event.choice);
      } else {
        delta = state.onFinish(event.reason);
        if (delta.finishReason === undefined) continue;
      }
      if (
        req.stream &&
        (delta.text ||
          delta.finishReason ||
          delta.logprobs.length > 0 ||
          !started.has(event.choice))
      ) {
        write(chunk(event.choice, delta, !started.has(event.choice)));
        started.add(event.choice);
      }
    }
  } finally {
    finished = true;
    reply.raw.off('close', onClose);
  }
  ctx.metrics.generationTokens.inc(completionTokens);
  const { arrivalMs } = handle.timings();
  ctx.metrics.e2e.observe((Date.now() - arrivalMs) / 1000);
  for (const c of choices)
    ctx.metrics.requestSuccess.inc({ finished_reason: c.finishReason ?? 'abort' });
  const usage = {
    prompt_tokens: prompt.length,
    completion_tokens: completionTokens,
    total_tokens: prompt.length + completionTokens,
  };
  if (req.stream) {
    if (failure !== undefined) {
      write(new HttpError(500, failure, 'server_error').body());
    } else if (req.includeUsage) {
      write({
        id,
        object: `${object}${req.kind === 'chat' ? '.chunk' : ''}`,
        created,
        model: ctx.modelId,
        choices: [],
        usage,
      });
    }
    if (!reply.raw.writableEnded) reply.raw.end('data: [DONE]\n\n');
    return;
  }
  if (failure !== undefined) throw new HttpError(500, failure, 'server_error');
  const echo = req.echo && typeof req.prompt === 'string' ? req.prompt : '';
  await reply.send({
    id,
    object,
    created,
    model: ctx.modelId,
    choices: choices.map((c, index) =>
      req.kind === 'chat'
        ? {
            index,
            message: { role: 'assistant', content: c.text },
            logprobs: req.logprobs !== undefined ? chatLogprobs(c.logprobs) : null,
            finish_reason: c.finishReason ?? 'abort',
          }
        : {
            index,
            text: echo + c.text,
            logprobs:
              req.logprobs !== undefined ? completionLogprobs(c.logprobs, echo.length) : null,
            finish_reason: c.finishReason ?? 'abort',
          },
    ),
    usage,
  });
}
