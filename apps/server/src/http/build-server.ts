import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerDashboard } from '../dashboard/dashboard-routes.js';
import type { Engine } from '../engine/engine.js';
import type { ServingTokenizerV1 } from '../engine/model.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import { badRequest, HttpError } from './openai-error.js';
import { parseRequest } from './parse-request.js';
import { describeSchemaError, requestSchemas, type SchemaError } from './request-schemas.js';
import { runGeneration, type ServeContext } from './run-generation.js';

/** Settings of {@link buildServer}. */
export interface ServerOptions {
  readonly engine: Engine;
  readonly tokenizer: ServingTokenizerV1;
  /** Name of the served model. */
  readonly modelId: string;
  readonly vocabSize: number;
  /** Bearer keys accepted on `/v1/*`; none = open. */
  readonly apiKeys?: readonly string[];
  /** Largest request body in bytes; default 1 MiB. */
  readonly bodyLimit?: number;
  /** Largest `max_tokens`; default 1024. */
  readonly maxTokens?: number;
  /** Largest `n`; default 8. */
  readonly maxN?: number;
  /** Serve the dashboard at `/`; default true. */
  readonly dashboard?: boolean;
}

function keyMatches(header: string | undefined, keys: readonly string[]): boolean {
  const m = header?.match(/^Bearer (.+)$/);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  return keys.some((k) => {
    const want = Buffer.from(k);
    return want.length === given.length && timingSafeEqual(want, given);
  });
}

/**
 * The OpenAI-compatible HTTP API on Fastify: `/v1/completions`,
 * `/v1/chat/completions`, `/v1/models`, `/health` and `/metrics`
 * (Prometheus). Errors use OpenAI's error shape.
 */
export function buildServer(options: ServerOptions): { app: FastifyInstance; ctx: ServeContext } {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1 << 20,
    logger: false,
    // Validate as written: no type coercion, no silently dropped fields, first error only.
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });
  const ctx: ServeContext = {
    engine: options.engine,
    tokenizer: options.tokenizer,
    modelId: options.modelId,
    vocabSize: options.vocabSize,
    metrics: new ServerMetrics(options.engine, options.modelId),
  };
  const limits = {
    maxTokens: options.maxTokens ?? 1024,
    maxN: options.maxN ?? 8,
    modelId: options.modelId,
  };
  const keys = options.apiKeys ?? [];
  const schemas = requestSchemas(limits);

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send(error.body());
    const e = error as {
      statusCode?: number;
      code?: string;
      message: string;
      validation?: SchemaError[];
    };
    if (e.validation && e.validation.length > 0) {
      const schema = request.url.startsWith('/v1/chat/') ? schemas.chat : schemas.completion;
      const { message, param } = describeSchemaError(schema, e.validation[0]!, request.body);
      return reply.status(400).send(badRequest(message, param).body());
    }
    if (
      e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      (e.statusCode === 400 && e.message.includes('JSON'))
    ) {
      return reply.status(400).send(new HttpError(400, `malformed JSON body: ${e.message}`).body());
    }
    if (e.statusCode === 413) {
      return reply
        .status(413)
        .send(
          new HttpError(
            413,
            `the request body is larger than the limit of ${options.bodyLimit ?? 1 << 20} bytes`,
          ).body(),
        );
    }
    if (e.statusCode === 415) {
      return reply
        .status(415)
        .send(new HttpError(415, `send the body as application/json (${e.message})`).body());
    }
    return reply.status(500).send(new HttpError(500, e.message, 'server_error').body());
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        new HttpError(
          404,
          `no route ${request.method} ${request.url}; see /, /v1/models, /v1/completions, /v1/chat/completions, /health, /metrics`,
          'not_found_error',
        ).body(),
      ),
  );
  app.addHook('onRequest', async (request) => {
    if (
      keys.length > 0 &&
      request.url.startsWith('/v1/') &&
      !keyMatches(request.headers.authorization, keys)
    ) {
      throw new HttpError(
        401,
        'missing or wrong API key: send "Authorization: Bearer <key>"',
        'authentication_error',
        null,
        'invalid_api_key',
      );
    }
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: options.modelId, object: 'model', created: 0, owned_by: 'plexus' }],
  }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
  app.post('/v1/completions', { schema: { body: schemas.completion } }, async (request, reply) => {
    await runGeneration(ctx, parseRequest('completion', request.body, limits), reply);
  });
  app.post('/v1/chat/completions', { schema: { body: schemas.chat } }, async (request, reply) => {
    await runGeneration(ctx, parseRequest('chat', request.body, limits), reply);
  });
  if (options.dashboard ?? true) registerDashboard(app, ctx);
  return { app, ctx };
}
