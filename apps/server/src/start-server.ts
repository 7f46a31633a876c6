import type { AddressInfo } from 'node:net';
import { initBackend } from '@plexus/tensor';
import type { FastifyInstance } from 'fastify';
import { Engine } from './engine/engine.js';
import { cacheAwarePolicy, fcfsPolicy, skipJoinMlfqPolicy } from './engine/scheduler-policy.js';
import { HierarchicalDrafter } from './engine/speculative/hierarchical-drafter.js';
import { buildServer } from './http/build-server.js';
import { loadModelDir } from './model/load-model-dir.js';
import type { ServeOptions } from './serve-options.js';

/** A running server. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly engine: Engine;
  readonly url: string;
  readonly backend: string;
  /** Stops accepting requests, aborts live ones (freeing their blocks) and closes. */
  close(): Promise<void>;
}

/** Loads the model, starts the engine and listens: what `plexus-serve` does. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const backend = await initBackend(options.backend ? { backend: options.backend as never } : {});
  const { model, tokenizer, eosTokenIds } = loadModelDir(options.model);
  const engine = new Engine({
    model,
    eosTokenIds,
    numBlocks: options.numBlocks,
    blockSize: options.blockSize,
    maxBatchTokens: options.maxBatchTokens,
    maxRunning: options.maxRunning,
    maxWaiting: options.maxWaiting,
    enablePrefixCaching: options.prefixCaching,
    policy:
      options.scheduler === 'mlfq'
        ? skipJoinMlfqPolicy()
        : options.scheduler === 'lpm'
          ? cacheAwarePolicy()
          : fcfsPolicy(),
    ...(options.speculativeTokens > 0
      ? {
          speculation: {
            drafter: new HierarchicalDrafter(),
            numDraftTokens: options.speculativeTokens,
          },
        }
      : {}),
  });
  const { app } = buildServer({
    engine,
    tokenizer,
    modelId: model.id,
    vocabSize: model.vocabSize,
    apiKeys: options.apiKeys,
    maxTokens: Math.min(options.maxTokens, model.maxContextLength - 1),
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await engine.stop();
    await app.close();
    model.model.dispose();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    engine,
    backend: backend.backend,
    url: `http://${options.host}:${port}`,
    async close() {
      await engine.stop();
      await app.close();
      model.model.dispose();
    },
  };
}
