import { badRequest, HttpError } from './openai-error.js';

/** Server-side limits the parser enforces. */
export interface RequestLimits {
  /** Largest `max_tokens`. */
  readonly maxTokens: number;
  /** Largest `n`. */
  readonly maxN: number;
  /** The served model's id (requests naming another model get a 404). */
  readonly modelId: string;
}

/** A validated completion or chat request. */
export interface ParsedRequest {
  readonly kind: 'completion' | 'chat';
  /** Completion prompt (text or token ids), or chat messages. */
  readonly prompt: string | readonly number[] | undefined;
  readonly messages: readonly { readonly role: string; readonly content: string }[] | undefined;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly n: number;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly stop: readonly string[];
  readonly seed: number | undefined;
  /** Top log-probabilities per token, or undefined when not asked for. */
  readonly logprobs: number | undefined;
  /** Echo the prompt (completions). */
  readonly echo: boolean;
}

const COMMON = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'n',
  'stream',
  'stream_options',
  'stop',
  'seed',
  'user',
  'presence_penalty',
  'frequency_penalty',
] as const;
const COMPLETION_FIELDS = [...COMMON, 'prompt', 'logprobs', 'echo'];
const CHAT_FIELDS = [...COMMON, 'messages', 'logprobs', 'top_logprobs', 'max_completion_tokens'];
const ROLES = ['system', 'user', 'assistant', 'developer'];

type Body = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string'
    ? `the string ${JSON.stringify(v.slice(0, 40))}`
    : `${typeof v} ${String(v)}`;
}

function int(body: Body, key: string, min: number, max: number, fallback: number): number {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(`'${key}' must be an integer in [${min}, ${max}], got ${describe(v)}`, key);
  }
  return v;
}

function num(
  body: Body,
  key: string,
  min: number,
  max: number,
  fallback: number,
  openMin = false,
): number {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v > max || (openMin ? v <= min : v < min)) {
    throw badRequest(
      `'${key}' must be a number in ${openMin ? '(' : '['}${min}, ${max}], got ${describe(v)}`,
      key,
    );
  }
  return v;
}

function bool(body: Body, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean')
    throw badRequest(`'${key}' must be true or false, got ${describe(v)}`, key);
  return v;
}

function parseStop(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (
    !Array.isArray(list) ||
    list.length > 4 ||
    !list.every((s): s is string => typeof s === 'string' && s.length > 0)
  ) {
    throw badRequest(
      `'stop' must be a non-empty string or an array of up to 4 non-empty strings, got ${describe(v)}`,
      'stop',
    );
  }
  return list;
}

function parseMessages(v: unknown): { role: string; content: string }[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw badRequest(
      `'messages' must be a non-empty array of {role, content}, got ${describe(v)}`,
      'messages',
    );
  }
  return v.map((m, i) => {
    if (typeof m !== 'object' || m === null) {
      throw badRequest(
        `messages[${i}] must be an object {role, content}, got ${describe(m)}`,
        'messages',
      );
    }
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.includes(role)) {
      throw badRequest(
        `messages[${i}].role must be one of ${ROLES.join(', ')}, got ${describe(role)}`,
        'messages',
      );
    }
    if (typeof content === 'string') return { role, content };
    if (
      Array.isArray(content) &&
      content.every(
        (p) =>
          typeof p === 'object' &&
          p !== null &&
          (p as Body).type === 'text' &&
          typeof (p as Body).text === 'string',
      )
    ) {
      return { role, content: content.map((p) => (p as { text: string }).text).join('') };
    }
    throw badRequest(
      `messages[${i}].content must be a string or an array of {type: 'text', text} parts, got ${describe(content)}`,
      'messages',
    );
  });
}

function parsePrompt(v: unknown): string | number[] {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  if (Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0))
    return v as number[];
  throw badRequest(
    `'prompt' must be a string, an array with one string, or a non-empty array of token ids, got ${describe(v)}`,
    'prompt',
  );
}

/**
 * Validates an OpenAI completion or chat body. Every problem becomes a 400
 * that names the field and says what is accepted; unknown fields are
 * refused rather than silently ignored; a request for another model is a 404.
 */
export function parseRequest(
  kind: 'completion' | 'chat',
  raw: unknown,
  limits: RequestLimits,
): ParsedRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw badRequest(`the request body must be a JSON object, got ${describe(raw)}`);
  }
  const body = raw as Body;
  const allowed = kind === 'chat' ? CHAT_FIELDS : COMPLETION_FIELDS;
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw badRequest(`unknown field '${key}'; accepted fields: ${allowed.join(', ')}`, key);
    }
  }
  if (body.model !== undefined && body.model !== limits.modelId) {
    throw new HttpError(
      404,
      `the model ${describe(body.model)} does not exist; this server serves '${limits.modelId}'`,
      'invalid_request_error',
      'model',
      'model_not_found',
    );
  }
  for (const key of ['presence_penalty', 'frequency_penalty']) {
    if (num(body, key, -2, 2, 0) !== 0) {
      throw badRequest(`'${key}' is not supported by this server; send 0 or leave it out`, key);
    }
  }
  if (body.user !== undefined && typeof body.user !== 'string') {
    throw badRequest(`'user' must be a string, got ${describe(body.user)}`, 'user');
  }
  const maxKey =
    kind === 'chat' && body.max_completion_tokens !== undefined
      ? 'max_completion_tokens'
      : 'max_tokens';
  const maxTokens = int(
    body,
    maxKey,
    1,
    limits.maxTokens,
    kind === 'chat' ? Math.min(256, limits.maxTokens) : 16,
  );
  const streamOptions = body.stream_options;
  if (
    streamOptions !== undefined &&
    streamOptions !== null &&
    (typeof streamOptions !== 'object' || Array.isArray(streamOptions))
  ) {
    throw badRequest(
      `'stream_options' must be an object like {"include_usage": true}, got ${describe(streamOptions)}`,
      'stream_options',
    );
  }
  const stream = bool(body, 'stream', false);
  if (streamOptions && !stream)
    throw badRequest(`'stream_options' is only allowed with "stream": true`, 'stream_options');
  const includeUsage = streamOptions ? bool(streamOptions as Body, 'include_usage', true) : true;
  let logprobs: number | undefined;
  if (kind === 'chat') {
    const on = bool(body, 'logprobs', false);
    const top = int(body, 'top_logprobs', 0, 20, 0);
    if (body.top_logprobs !== undefined && !on)
      throw badRequest(`'top_logprobs' needs "logprobs": true`, 'top_logprobs');
    logprobs = on ? top : undefined;
  } else if (body.logprobs !== undefined && body.logprobs !== null) {
    logprobs = int(body, 'logprobs', 0, 5, 0);
  }
  const seed =
    body.seed === undefined || body.seed === null
      ? undefined
      : int(body, 'seed', -(2 ** 53) + 1, 2 ** 53 - 1, 0);
  const parsed: ParsedRequest = {
    kind,
    prompt: kind === 'completion' ? parsePrompt(body.prompt) : undefined,
    messages: kind === 'chat' ? parseMessages(body.messages) : undefined,
    maxTokens,
    temperature: num(body, 'temperature', 0, 2, 1),
    topP: num(body, 'top_p', 0, 1, 1, true),
    topK: int(body, 'top_k', -1, 1 << 20, -1),
    n: int(body, 'n', 1, limits.maxN, 1),
    stream,
    includeUsage,
    stop: parseStop(body.stop),
    seed,
    logprobs,
    echo: kind === 'completion' ? bool(body, 'echo', false) : false,
  };
  if (parsed.echo && parsed.stream)
    throw badRequest(`'echo' is not supported with "stream": true`, 'echo');
  return parsed;
}
