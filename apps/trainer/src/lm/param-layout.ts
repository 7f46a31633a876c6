import * as tf from '@tensorflow/tfjs-core';

/**
 * Where each named tensor lives in one flat float32 buffer, so gradients
 * are all-reduced, clipped and checked as a single array and DiLoCo sees the
 * parameters as one vector.
 */
export class ParamLayout {
  readonly names: readonly string[];
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly offsets: ReadonlyMap<string, number>;
  readonly total: number;

  constructor(params: ReadonlyMap<string, tf.Tensor>) {
    const shapes = new Map<string, readonly number[]>();
    const offsets = new Map<string, number>();
    let at = 0;
    for (const [name, p] of params) {
      shapes.set(name, p.shape);
      offsets.set(name, at);
      at += p.size;
    }
    this.names = [...params.keys()];
    this.shapes = shapes;
    this.offsets = offsets;
    this.total = at;
  }

  /**
   * Copy named gradients into `out` (default: a new, zeroed buffer) and
   * dispose them. A missing gradient is zero: an expert that received no
   * token in this batch has none.
   */
  flattenAndDispose(
    tensors: ReadonlyMap<string, tf.Tensor>,
    out: Float32Array = new Float32Array(this.total),
  ): Float32Array {
    for (const name of this.names) {
      const t = tensors.get(name);
      const at = this.offsets.get(name)!;
      if (t) out.set(t.dataSync() as Float32Array, at);
      else out.fill(0, at, at + this.shapes.get(name)!.reduce((a, d) => a * d, 1));
    }
    for (const t of tensors.values()) t?.dispose();
    return out;
  }

  /** Copy the live variables into `out` without disposing them. */
  read(
    params: ReadonlyMap<string, tf.Variable>,
    out: Float32Array = new Float32Array(this.total),
  ): Float32Array {
    for (const name of this.names)
      out.set(params.get(name)!.dataSync() as Float32Array, this.offsets.get(name)!);
    return out;
  }

  /**
   * New tensors, one per name, from copies of slices of `flat` (the cpu
   * backend keeps the array it is given, so a view would alias `flat`);
   * the caller disposes them.
   */
  toTensors(flat: Float32Array): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const name of this.names) {
      const shape = this.shapes.get(name)!;
      const size = shape.reduce((a, d) => a * d, 1);
      const at = this.offsets.get(name)!;
      out.set(name, tf.tensor(flat.slice(at, at + size), [...shape], 'float32'));
    }
    return out;
  }

  /** Assign `flat` to the live variables. */
  write(params: ReadonlyMap<string, tf.Variable>, flat: Float32Array): void {
    const ts = this.toTensors(flat);
    for (const [name, t] of ts) params.get(name)!.assign(t);
    tf.dispose([...ts.values()]);
  }
}
