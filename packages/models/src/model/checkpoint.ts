import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlexusModelsError } from '../errors.js';
import { SafetensorsCheckpoint, writeSafetensorsCheckpoint } from '../safetensors/sharded.js';
import type { TensorToWrite } from '../safetensors/writer.js';
import { writeFileAtomic } from '../safetensors/writer.js';
import { CausalLM } from './causal-lm.js';
import { configToJson, parseModelConfig } from './config.js';
import { LM_HEAD, paramSpecs } from './params.js';

const MODULE = 'checkpoint';

/** Names found in real checkpoints that carry no parameter (recomputed buffers). */
function isBuffer(name: string): boolean {
  return name.endsWith('.rotary_emb.inv_freq');
}

/**
 * Load a Hugging Face checkpoint directory: `config.json` plus
 * `model.safetensors` or sharded `*.safetensors` with
 * `model.safetensors.index.json`. F16/BF16/F64 weights become float32. A
 * missing tensor, a tensor of the wrong shape, or an unexpected tensor name
 * (a different architecture) is an error; a tied model's stray `lm_head`
 * and rotary `inv_freq` buffers are ignored.
 */
export function loadCheckpoint(dir: string): CausalLM {
  let raw: unknown;
  const configPath = join(dir, 'config.json');
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new PlexusModelsError(MODULE, `cannot read ${configPath}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const config = parseModelConfig(raw as Record<string, unknown>);
  const ckpt = SafetensorsCheckpoint.open(dir);
  try {
    const wanted = new Map(paramSpecs(config).map((s) => [s.name, s]));
    for (const name of ckpt.names)
      if (!wanted.has(name) && !isBuffer(name) && !(name === LM_HEAD && config.tie_word_embeddings))
        throw new PlexusModelsError(
          MODULE,
          `${dir} has tensor '${name}', which a ${config.model_type} model with this config does not have`,
        );
    const values = new Map<string, Float32Array>();
    for (const spec of wanted.values()) {
      if (!ckpt.has(spec.name))
        throw new PlexusModelsError(
          MODULE,
          `${dir} is missing tensor '${spec.name}' [${spec.shape.join(', ')}]`,
        );
      const info = ckpt.info(spec.name);
      if (info.shape.join() !== spec.shape.join())
        throw new PlexusModelsError(
          MODULE,
          `tensor '${spec.name}' has shape [${info.shape.join(', ')}]; the config needs [${spec.shape.join(', ')}]`,
        );
      if (!['F32', 'F16', 'BF16', 'F64'].includes(info.dtype))
        throw new PlexusModelsError(
          MODULE,
          `tensor '${spec.name}' is ${info.dtype}; expected a float dtype (F32, F16, BF16, F64)`,
        );
      const t = ckpt.read(spec.name);
      values.set(
        spec.name,
        t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array),
      );
    }
    return new CausalLM(config, values);
  } finally {
    ckpt.close();
  }
}

/**
 * Save a model as a Hugging Face checkpoint directory (`config.json` and
 * `model.safetensors`, sharded past `maxShardBytes`), F32 or BF16 weights;
 * each file is written atomically.
 */
export function saveCheckpoint(
  model: CausalLM,
  dir: string,
  options: { dtype?: 'F32' | 'BF16'; maxShardBytes?: number } = {},
): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  for (const spec of paramSpecs(model.config))
    tensors.set(spec.name, {
      shape: spec.shape,
      data: model.param(spec.name).dataSync() as Float32Array,
      dtype: options.dtype ?? 'F32',
    });
  writeSafetensorsCheckpoint(dir, tensors, {
    metadata: { format: 'pt' },
    ...(options.maxShardBytes !== undefined ? { maxShardBytes: options.maxShardBytes } : {}),
  });
  writeFileAtomic(
    join(dir, 'config.json'),
    new TextEncoder().encode(`${JSON.stringify(configToJson(model.config), null, 2)}\n`),
  );
}
