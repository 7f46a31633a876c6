import { parseArgs } from 'node:util';

/** Options of `plexus-serve`. */
export interface ServeOptions {
  readonly model: string;
  readonly host: string;
  readonly port: number;
  readonly apiKeys: string[];
  readonly scheduler: 'fcfs' | 'mlfq' | 'lpm';
  readonly numBlocks: number;
  readonly blockSize: 8 | 16 | 32;
  readonly maxBatchTokens: number;
  readonly maxRunning: number;
  readonly maxWaiting: number;
  readonly maxTokens: number;
  readonly prefixCaching: boolean;
  readonly backend: string | undefined;
  /** Draft tokens per step for greedy requests (0 = no speculative decoding). */
  readonly speculativeTokens: number;
}

/** Usage text. */
export const SERVE_USAGE = `usage: plexus-serve --model DIR [options]

  --model DIR             model directory in the Hugging Face layout (config.json,
                          *.safetensors, tokenizer.json), e.g. from plexus-train lm
  --host HOST             default 127.0.0.1
  --port PORT             default 8000 (0 = any free port)
  --api-key KEY           require "Authorization: Bearer KEY" on /v1 (repeatable;
                          also PLEXUS_API_KEY)
  --scheduler fcfs|mlfq|lpm
                          first-come-first-served (default), skip-join MLFQ, or
                          cache-aware longest-prefix-match first
  --num-blocks N          KV-cache blocks (default 512)
  --block-size 8|16|32    tokens per block (default 16)
  --max-batch-tokens N    tokens per engine step (default 256)
  --max-running N         requests per step (default 32)
  --max-waiting N         queued requests before 429 (default 256)
  --max-tokens N          largest max_tokens a request may ask (default 1024)
  --no-prefix-caching     do not share cached prompt blocks
  --speculative-tokens K  draft up to K tokens per step for greedy requests from
                          hierarchical n-gram databases (default 4; 0 = off)
  --backend NAME          tensor backend (default: initBackend's choice)`;

/** Thrown for bad command lines; the CLI prints it with the usage. */
export class ServeUsageError extends Error {}

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ServeUsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** Parses `plexus-serve` arguments. */
export function parseServeOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): ServeOptions {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'api-key': { type: 'string', multiple: true },
        scheduler: { type: 'string' },
        'num-blocks': { type: 'string' },
        'block-size': { type: 'string' },
        'max-batch-tokens': { type: 'string' },
        'max-running': { type: 'string' },
        'max-waiting': { type: 'string' },
        'max-tokens': { type: 'string' },
        'no-prefix-caching': { type: 'boolean' },
        backend: { type: 'string' },
        'speculative-tokens': { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ServeUsageError((error as Error).message);
  }
  const model = values.model as string | undefined;
  if (!model) throw new ServeUsageError('--model DIR is required');
  const scheduler = (values.scheduler as string | undefined) ?? 'fcfs';
  if (scheduler !== 'fcfs' && scheduler !== 'mlfq' && scheduler !== 'lpm') {
    throw new ServeUsageError(`--scheduler must be fcfs, mlfq or lpm, got '${scheduler}'`);
  }
  const blockSize = positiveInt('block-size', values['block-size'] as string | undefined, 16);
  if (blockSize !== 8 && blockSize !== 16 && blockSize !== 32) {
    throw new ServeUsageError(`--block-size must be 8, 16 or 32, got ${blockSize}`);
  }
  const keys = [...((values['api-key'] as string[] | undefined) ?? [])];
  if (env.PLEXUS_API_KEY) keys.push(env.PLEXUS_API_KEY);
  return {
    model,
    host: (values.host as string | undefined) ?? '127.0.0.1',
    port: positiveInt('port', values.port as string | undefined, 8000, 0),
    apiKeys: keys,
    scheduler,
    numBlocks: positiveInt('num-blocks', values['num-blocks'] as string | undefined, 512),
    blockSize,
    maxBatchTokens: positiveInt(
      'max-batch-tokens',
      values['max-batch-tokens'] as string | undefined,
      256,
    ),
    maxRunning: positiveInt('max-running', values['max-running'] as string | undefined, 32),
    maxWaiting: positiveInt('max-waiting', values['max-waiting'] as string | undefined, 256),
    maxTokens: positiveInt('max-tokens', values['max-tokens'] as string | undefined, 1024),
    prefixCaching: !values['no-prefix-caching'],
    backend: values.backend as string | undefined,
    speculativeTokens: positiveInt(
      'speculative-tokens',
      values['speculative-tokens'] as string | undefined,
      4,
      0,
    ),
  };
}
