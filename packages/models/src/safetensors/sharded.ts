import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PlexusModelsError } from '../errors.js';
import { DTYPE_BYTES } from './dtypes.js';
import { shapeSize, type TensorInfo } from './header.js';
import { type HostTensor, SafetensorsReader } from './reader.js';
import { serializeSafetensors, type TensorToWrite, writeFileAtomic } from './writer.js';

/** The index file name of a sharded Hugging Face checkpoint. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/**
 * The tensors of a checkpoint directory, whether one `model.safetensors`,
 * several shards named by `model.safetensors.index.json`, or (no index) every
 * `*.safetensors` file in the directory. Files are opened once; tensors are
 * read on demand.
 */
export class SafetensorsCheckpoint {
  private readonly readers: SafetensorsReader[];
  private readonly where: Map<string, SafetensorsReader>;

  private constructor(readers: SafetensorsReader[], where: Map<string, SafetensorsReader>) {
    this.readers = readers;
    this.where = where;
  }

  /** Open the checkpoint in `dir` (see the class comment for the layouts). */
  static open(dir: string): SafetensorsCheckpoint {
    const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
    const readers: SafetensorsReader[] = [];
    const where = new Map<string, SafetensorsReader>();
    try {
      if (existsSync(indexPath)) {
        const weightMap = parseIndex(readFileSync(indexPath, 'utf8'), indexPath);
        const byFile = new Map<string, SafetensorsReader>();
        for (const [name, file] of Object.entries(weightMap)) {
          let r = byFile.get(file);
          if (!r) {
            r = SafetensorsReader.open(join(dir, file));
            byFile.set(file, r);
            readers.push(r);
          }
          if (!r.has(name))
            throw new PlexusModelsError(
              'safetensors',
              `${indexPath} maps '${name}' to ${file}, which has no such tensor`,
            );
          where.set(name, r);
        }
      } else {
        const files = existsSync(dir)
          ? readdirSync(dir)
              .filter((f) => f.endsWith('.safetensors'))
              .sort()
          : [];
        if (files.length === 0)
          throw new PlexusModelsError(
            'safetensors',
            `${dir} has no ${SAFETENSORS_INDEX_FILE} and no *.safetensors file; expected a checkpoint directory`,
          );
        for (const file of files) {
          const r = SafetensorsReader.open(join(dir, file));
          readers.push(r);
          for (const name of r.names) {
            if (where.has(name))
              throw new PlexusModelsError(
                'safetensors',
                `tensor '${name}' appears in more than one file of ${dir}`,
              );
            where.set(name, r);
          }
        }
      }
    } catch (e) {
      for (const r of readers) r.close();
      throw e;
    }
    return new SafetensorsCheckpoint(readers, where);
  }

  /** Every tensor name. */
  get names(): string[] {
    return [...this.where.keys()];
  }

  /** Whether the checkpoint has `name`. */
  has(name: string): boolean {
    return this.where.has(name);
  }

  /** Dtype, shape and offsets of `name`. */
  info(name: string): TensorInfo {
    return this.reader(name).info(name);
  }

  /** Decode `name` to a host array. */
  read(name: string): HostTensor {
    return this.reader(name).read(name);
  }

  /** Close every file. */
  close(): void {
    for (const r of this.readers) r.close();
  }

  private reader(name: string): SafetensorsReader {
    const r = this.where.get(name);
    if (!r)
      throw new PlexusModelsError('safetensors', `the checkpoint has no tensor named '${name}'`);
    return r;
  }
}

/** Validate an index file's text; returns its `weight_map`. */
export function parseIndex(text: string, label: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PlexusModelsError(
      'safetensors',
      `${label} is not valid JSON (${(e as Error).message})`,
    );
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map))
    throw new PlexusModelsError(
      'safetensors',
      `${label} has no "weight_map" object; expected {"weight_map": {tensor: file}}`,
    );
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    // Shard names must be plain file names: an index must not reach outside its directory.
    if (
      typeof file !== 'string' ||
      file !== basename(file) ||
      file === '..' ||
      !file.endsWith('.safetensors')
    )
      throw new PlexusModelsError(
        'safetensors',
        `${label} maps '${name}' to ${JSON.stringify(file)}; expected a *.safetensors file name in the same directory`,
      );
  }
  return map as Record<string, string>;
}

/**
 * Write tensors to `dir` as Hugging Face does: one `model.safetensors` when
 * the total fits in `maxShardBytes`, else `model-0000i-of-0000n.safetensors`
 * shards plus `model.safetensors.index.json`. Returns the files written.
 */
export function writeSafetensorsCheckpoint(
  dir: string,
  tensors: ReadonlyMap<string, TensorToWrite>,
  options: { maxShardBytes?: number; metadata?: Readonly<Record<string, string>> } = {},
): string[] {
  const max = options.maxShardBytes ?? 5 * 2 ** 30;
  const shards: Map<string, TensorToWrite>[] = [new Map()];
  let size = 0;
  let total = 0;
  for (const [name, t] of tensors) {
    const bytes = shapeSize(t.shape) * DTYPE_BYTES[t.dtype ?? 'F32'];
    if (size > 0 && size + bytes > max) {
      shards.push(new Map());
      size = 0;
    }
    shards[shards.length - 1]!.set(name, t);
    size += bytes;
    total += bytes;
  }
  if (shards.length === 1) {
    writeFileAtomic(
      join(dir, 'model.safetensors'),
      serializeSafetensors(shards[0]!, options.metadata),
    );
    // A stale index from an earlier sharded save would shadow the new file.
    rmSync(join(dir, SAFETENSORS_INDEX_FILE), { force: true });
    return ['model.safetensors'];
  }
  const n = shards.length;
  const pad = (i: number) => String(i).padStart(5, '0');
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    writeFileAtomic(join(dir, file), serializeSafetensors(shard, options.metadata));
    for (const name of shard.keys()) weightMap[name] = file;
    files.push(file);
  });
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  writeFileAtomic(
    join(dir, SAFETENSORS_INDEX_FILE),
    new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`),
  );
  return [...files, SAFETENSORS_INDEX_FILE];
}
