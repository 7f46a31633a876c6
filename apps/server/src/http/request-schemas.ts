import type { RequestLimits } from './parse-request.js';

/** A JSON Schema property with the phrase error messages use ("an integer in [1, 64]"). */
interface Property {
  readonly description: string;
  readonly [keyword: string]: unknown;
}

const int = (min: number, max: number): Property => ({
  type: 'integer',
  minimum: min,
  maximum: max,
  description: `an integer in [${min}, ${max}]`,
});
const num = (min: number, max: number, exclusiveMin = false): Property => ({
  type: 'number',
  ...(exclusiveMin ? { exclusiveMinimum: min } : { minimum: min }),
  maximum: max,
  description: `a number in ${exclusiveMin ? '(' : '['}${min}, ${max}]`,
});
const nullable = (p: Property): Property =>
  Array.isArray(p.anyOf)
    ? { ...p, anyOf: [...p.anyOf, { type: 'null' }] }
    : { ...p, type: [p.type as string, 'null'] };

function common(limits: RequestLimits): Record<string, Property> {
  return {
    model: { type: 'string', description: 'a string (the served model id)' },
    max_tokens: nullable(int(1, limits.maxTokens)),
    temperature: nullable(num(0, 2)),
    top_p: nullable(num(0, 1, true)),
    top_k: nullable(int(-1, 1 << 20)),
    n: nullable(int(1, limits.maxN)),
    stream: nullable({ type: 'boolean', description: 'true or false' }),
    stream_options: nullable({
      type: 'object',
      properties: { include_usage: { type: 'boolean' } },
      additionalProperties: false,
      description: 'an object like {"include_usage": true}',
    }),
    stop: nullable({
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 4 },
      ],
      description: 'a non-empty string or an array of up to 4 non-empty strings',
    }),
    seed: nullable({ type: 'integer', description: 'an integer' }),
    user: { type: 'string', description: 'a string' },
    presence_penalty: nullable(num(-2, 2)),
    frequency_penalty: nullable(num(-2, 2)),
  };
}

const textPart = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: { type: 'string' } },
};

/**
 * JSON Schemas of the two generation endpoints, validated by Fastify (Ajv)
 * before a handler runs: types, ranges and unknown fields. Every property
 * carries a `description` that the error handler turns into "what is
 * accepted"; `parseRequest` then checks what a schema cannot say (the model
 * name, option combinations).
 */
export function requestSchemas(limits: RequestLimits): {
  completion: Record<string, unknown>;
  chat: Record<string, unknown>;
} {
  const completionProps: Record<string, Property> = {
    ...common(limits),
    prompt: {
      anyOf: [
        { type: 'string' },
        { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 },
        { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1 },
      ],
      description: 'a string, an array with one string, or a non-empty array of token ids',
    },
    logprobs: nullable(int(0, 5)),
    echo: nullable({ type: 'boolean', description: 'true or false' }),
  };
  const chatProps: Record<string, Property> = {
    ...common(limits),
    messages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { enum: ['system', 'user', 'assistant', 'developer'] },
          content: { anyOf: [{ type: 'string' }, { type: 'array', items: textPart }] },
        },
      },
      description:
        "a non-empty array of {role: 'system' | 'user' | 'assistant' | 'developer', content: string or [{type: 'text', text}]}",
    },
    logprobs: nullable({ type: 'boolean', description: 'true or false' }),
    top_logprobs: nullable(int(0, 20)),
    max_completion_tokens: nullable(int(1, limits.maxTokens)),
  };
  const object = (properties: Record<string, Property>, required: string[]) => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  });
  return {
    completion: object(completionProps, ['prompt']),
    chat: object(chatProps, ['messages']),
  };
}

/** One Ajv error, as Fastify hands it over. */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
}

/**
 * Turns the first schema violation into a sentence that names the field
 * and says what is accepted (from the property's `description`).
 */
export function describeSchemaError(
  schema: Record<string, unknown>,
  error: SchemaError,
  body: unknown,
): { message: string; param: string | null } {
  const props = schema.properties as Record<string, Property>;
  if (error.keyword === 'additionalProperties') {
    const field = String(error.params.additionalProperty);
    return {
      message: `unknown field '${field}'; accepted fields: ${Object.keys(props).join(', ')}`,
      param: field,
    };
  }
  if (error.keyword === 'required' && error.instancePath === '') {
    const field = String(error.params.missingProperty);
    return {
      message: `'${field}' is required: ${props[field]?.description ?? 'see the API'}`,
      param: field,
    };
  }
  if (error.instancePath === '' && error.keyword === 'type') {
    return { message: 'the request body must be a JSON object', param: null };
  }
  const path = error.instancePath.split('/').slice(1);
  const field = path[0]!;
  const name = path.map((p, i) => (i === 0 ? p : /^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('');
  const value = (body as Record<string, unknown> | null)?.[field];
  const got = path.length === 1 ? `, got ${describeValue(value)}` : '';
  const accepted = props[field]?.description;
  return {
    message:
      path.length === 1 && accepted
        ? `'${field}' must be ${accepted}${got}`
        : `'${name}' ${error.message ?? 'is invalid'}${accepted ? `; '${field}' must be ${accepted}` : ''}`,
    param: field,
  };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string'
    ? `the string ${JSON.stringify(v.slice(0, 40))}`
    : `${typeof v} ${String(v)}`;
}
