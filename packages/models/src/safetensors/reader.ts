import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { PlexusModelsError } from '../errors.js';
import { decodeArray, type SafetensorsDtype, type TensorArray } from './dtypes.js';
import {
  parseHeader,
  parseHeaderLength,
  type SafetensorsHeader,
  shapeSize,
  type TensorInfo,
} from './header.js';

/** A decoded tensor on the host. */
export interface HostTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TensorArray;
}

/** Random-access bytes: a buffer in memory or an open file. */
interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

function bufferSource(buf: Uint8Array): ByteSource {
  return {
    size: buf.byteLength,
    read: (offset, length) => buf.subarray(offset, offset + length),
    close: () => {},
  };
}

function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  let open = true;
  try {
    const size = fstatSync(fd).size;
    return {
      size,
      read(offset, length) {
        if (!open)
          throw new PlexusModelsError('safetensors', `${path} is closed; open it again to read`);
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (n === 0)
            throw new PlexusModelsError(
              'safetensors',
              `${path} ended at ${offset + done} bytes while reading ${length} bytes at ${offset}; the file shrank`,
            );
          done += n;
        }
        return out;
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Reads a safetensors file: the header is parsed and validated once, and
 * each tensor's bytes are read only when asked for, so a checkpoint larger
 * than memory can be streamed tensor by tensor. Every read is inside the
 * bounds the validated header allows.
 */
export class SafetensorsReader {
  /** The validated header. */
  readonly header: SafetensorsHeader;
  private readonly source: ByteSource;
  private readonly byName: Map<string, TensorInfo>;

  private constructor(source: ByteSource, label: string) {
    this.source = source;
    try {
      const headerLength = parseHeaderLength(source.read(0, Math.min(8, source.size)), source.size);
      const dataSize = source.size - 8 - headerLength;
      this.header = parseHeader(source.read(8, headerLength), dataSize);
    } catch (e) {
      source.close();
      if (PlexusModelsError.isInstance(e) && label)
        throw new PlexusModelsError(
          'safetensors',
          `${label}: ${e.message.replace('@plexus/models/safetensors: ', '')}`,
          { cause: e },
        );
      throw e;
    }
    this.byName = new Map(this.header.tensors.map((t) => [t.name, t]));
  }

  /** Read from bytes already in memory (not copied; keep them unchanged). */
  static fromBuffer(bytes: Uint8Array): SafetensorsReader {
    return new SafetensorsReader(bufferSource(bytes), '');
  }

  /** Open a file; only the header is read now. Call {@link close} when done. */
  static open(path: string): SafetensorsReader {
    return new SafetensorsReader(fileSource(path), path);
  }

  /** Tensor names in file order. */
  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  /** The `__metadata__` map. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Whether the file holds `name`. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Dtype, shape and offsets of `name`. */
  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t)
      throw new PlexusModelsError(
        'safetensors',
        `no tensor named '${name}'; the file has ${this.byName.size} tensors (${this.names.slice(0, 5).join(', ')}${this.byName.size > 5 ? ', ...' : ''})`,
      );
    return t;
  }

  /** Raw little-endian bytes of `name`. */
  readBytes(name: string): Uint8Array {
    const t = this.info(name);
    const [begin, end] = t.dataOffsets;
    return this.source.read(this.header.dataStart + begin, end - begin);
  }

  /** Decode `name` to a host array (F16/BF16 widened to float32). */
  read(name: string): HostTensor {
    const t = this.info(name);
    return {
      dtype: t.dtype,
      shape: t.shape,
      data: decodeArray(t.dtype, this.readBytes(name), shapeSize(t.shape)),
    };
  }

  /**
   * `name` as a new tfjs tensor: float dtypes become float32, integers int32
   * (I64 values outside the int32 range are rejected), BOOL bool.
   */
  readTensor(name: string): tf.Tensor {
    return hostToTensor(name, this.read(name));
  }

  /** Release the file descriptor (no-op for buffers). */
  close(): void {
    this.source.close();
  }
}

/** A host tensor as a tfjs tensor (float32, int32 or bool). */
export function hostToTensor(name: string, t: HostTensor): tf.Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'F64':
    case 'F32':
    case 'F16':
    case 'BF16':
      return tf.tensor(
        t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array),
        shape,
        'float32',
      );
    case 'BOOL':
      return tf.tensor(t.data as Uint8Array, shape, 'bool');
    case 'I64': {
      const src = t.data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n)
          throw new PlexusModelsError(
            'safetensors',
            `tensor '${name}' element ${i} is ${v}, outside int32; tfjs tensors hold int32 integers`,
          );
        out[i] = Number(v);
      }
      return tf.tensor(out, shape, 'int32');
    }
    default:
      return tf.tensor(Int32Array.from(t.data as Int32Array), shape, 'int32');
  }
}
