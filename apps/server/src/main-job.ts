import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './start-server.js';

/**
 * The README's main job: the whole system on a fresh machine. Trains the
 * tiny Mixtral on the bundled corpus with `plexus-train lm` unless a model
 * is already there (an interrupted run resumes from its last checkpoint),
 * serves it with `plexus-serve`, streams one chat completion through the
 * HTTP API, and prints the dashboard's URL. Ctrl-C stops it cleanly.
 */
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    seq: { type: 'string' },
    port: { type: 'string' },
    once: { type: 'boolean' },
  },
});
const runDir = resolve(values.out ?? join(repoRoot, 'runs', 'main-tiny-moe'));
const modelDir = join(runDir, 'model');

function train(): Promise<void> {
  const trainer = join(repoRoot, 'apps', 'trainer', 'dist', 'cli.js');
  if (!existsSync(trainer)) {
    throw new Error(
      `${trainer} is missing; build first (pnpm build, or run this through pnpm demo)`,
    );
  }
  const resume =
    existsSync(join(runDir, 'checkpoints')) && readdirSync(join(runDir, 'checkpoints')).length > 0;
  const args = [
    trainer,
    'lm',
    '--config',
    'tiny-moe',
    '--steps',
    values.steps ?? '150',
    '--batch',
    values.batch ?? '8',
    '--seq',
    values.seq ?? '64',
    '--checkpoint-every',
    '25',
    '--out',
    runDir,
    ...(resume ? ['--resume'] : []),
  ];
  console.log(
    `main job: no model in ${modelDir}; ${resume ? 'resuming' : 'training'} the tiny Mixtral on the bundled corpus (plexus-train ${args.slice(1).join(' ')})`,
  );
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code === 0 && existsSync(join(modelDir, 'config.json'))) resolvePromise();
      else if (code === 0)
        reject(new Error('training stopped before writing the model; run again to resume'));
      else reject(new Error(`plexus-train lm exited with ${signal ?? `code ${code}`}`));
    });
  });
}

async function streamChat(url: string): Promise<void> {
  const question = 'Who is Mr. Darcy?';
  console.log(
    `\nmain job: POST ${url}/v1/chat/completions (stream) — user: ${question}\nassistant: `,
  );
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: [{ role: 'user', content: question }],
      max_tokens: 60,
      temperature: 0.7,
      seed: 1,
      stream: true,
    }),
  });
  if (!res.ok || !res.body)
    throw new Error(`chat completion failed: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut = buffer.indexOf('\n\n');
    while (cut !== -1) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf('\n\n');
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6)) as {
        choices: { delta: { content?: string } }[];
        usage?: typeof usage;
      };
      for (const c of data.choices) if (c.delta.content) process.stdout.write(c.delta.content);
      if (data.usage) usage = data.usage;
    }
  }
  if (usage)
    console.log(`\n(${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens)`);
}

async function main(): Promise<void> {
  if (existsSync(join(modelDir, 'config.json')))
    console.log(`main job: serving the model in ${modelDir}`);
  else await train();
  const port = Number(values.port ?? process.env.PORT ?? 8000);
  const options = {
    model: modelDir,
    host: '127.0.0.1',
    apiKeys: [],
    scheduler: 'fcfs' as const,
    numBlocks: 512,
    blockSize: 16 as const,
    maxBatchTokens: 256,
    maxRunning: 32,
    maxWaiting: 256,
    maxTokens: 256,
    prefixCaching: true,
    backend: undefined,
    speculativeTokens: 4,
  };
  const server = await startServer({ ...options, port }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EADDRINUSE') throw e;
    console.log(`main job: port ${port} is busy, taking a free one`);
    return startServer({ ...options, port: 0 });
  });
  console.log(`main job: plexus-serve is listening at ${server.url} (backend ${server.backend})`);
  await streamChat(server.url);
  console.log(
    `\nmain job: dashboard at ${server.url}/  ·  API ${server.url}/v1  ·  metrics ${server.url}/metrics`,
  );
  if (values.once) {
    await server.close();
    return;
  }
  console.log('main job: Ctrl-C to stop');
  await new Promise<void>((resolvePromise) => {
    const stop = () => {
      console.log('\nmain job: stopping');
      server.close().then(resolvePromise, resolvePromise);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

main().catch((error: unknown) => {
  console.error(`main job: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
