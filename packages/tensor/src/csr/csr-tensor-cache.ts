import * as tf from '@tensorflow/tfjs-core';
import type { CsrMatrix } from './csr-matrix.js';

/** Device copies of a CSR matrix's arrays, as tfjs tensors. */
export interface CsrTensors {
  readonly indptr: tf.Tensor1D;
  readonly indices: tf.Tensor1D;
  /** Present only when the matrix stores values. */
  readonly values: tf.Tensor1D | undefined;
}

/**
 * Keeps one upload of a matrix's arrays per backend, so repeated kernels on
 * the same graph (every layer, every epoch) do not copy the structure again.
 * The tensors are `keep`-ed: a surrounding `tidy` must not dispose them.
 */
export class CsrTensorCache {
  private readonly byBackend = new Map<string, CsrTensors>();
  private readonly extras = new Map<string, tf.Tensor>();

  constructor(private readonly matrix: CsrMatrix) {}

  /** The matrix's tensors on the current backend, uploading them on first use. */
  get(): CsrTensors {
    const backend = tf.getBackend();
    let entry = this.byBackend.get(backend);
    if (entry === undefined || entry.indptr.isDisposed) {
      const m = this.matrix;
      entry = tf.tidy(() => ({
        indptr: tf.keep(tf.tensor1d(m.indptr, 'int32')),
        indices: tf.keep(tf.tensor1d(m.indices, 'int32')),
        values: m.values === undefined ? undefined : tf.keep(tf.tensor1d(m.values, 'float32')),
      }));
      this.byBackend.set(backend, entry);
    }
    return entry;
  }

  /**
   * A derived int32 array of the matrix (row ids, transpose permutation),
   * uploaded once per backend under `name`.
   */
  getInt32(name: string, make: () => Int32Array): tf.Tensor1D {
    const key = `${tf.getBackend()}:${name}`;
    let t = this.extras.get(key);
    if (t === undefined || t.isDisposed) {
      t = tf.keep(tf.tensor1d(make(), 'int32'));
      this.extras.set(key, t);
    }
    return t as tf.Tensor1D;
  }

  /** Dispose every cached upload. */
  dispose(): void {
    for (const t of this.extras.values()) t.dispose();
    this.extras.clear();
    for (const entry of this.byBackend.values()) {
      entry.indptr.dispose();
      entry.indices.dispose();
      entry.values?.dispose();
    }
    this.byBackend.clear();
  }
}
