import type { AddressInfo } from 'node:net';
import { Engine, type EngineOptions } from '../src/engine/engine.js';
import { buildServer, type ServerOptions } from '../src/http/build-server.js';
import { TOY_VOCAB, ToyPagedModel, toyTokenizer } from './toy-model.js';

/** A toy model served over loopback HTTP for a test file. */
export interface ToyServer {
  readonly model: ToyPagedModel;
  readonly engine: Engine;
  readonly app: ReturnType<typeof buildServer>['app'];
  /** `http://127.0.0.1:PORT`, set once `listen` resolved. */
  base: string;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the engine and server around a {@link ToyPagedModel}; call `listen` in `beforeAll`. */
export function toyServer(
  engine: Partial<Omit<EngineOptions, 'model'>> = {},
  server: Partial<Omit<ServerOptions, 'engine' | 'tokenizer' | 'modelId' | 'vocabSize'>> = {},
): ToyServer {
  const model = new ToyPagedModel(TOY_VOCAB, 256);
  const e = new Engine({ model, eosTokenIds: [0], numBlocks: 64, blockSize: 8, ...engine });
  const { app } = buildServer({
    engine: e,
    tokenizer: toyTokenizer,
    modelId: 'toy',
    vocabSize: TOY_VOCAB,
    ...server,
  });
  const result: ToyServer = {
    model,
    engine: e,
    app,
    base: '',
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      result.base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    },
    async close() {
      await app.close();
      await e.stop();
    },
  };
  return result;
}
