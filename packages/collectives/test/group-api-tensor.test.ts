import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allGatherTensor,
  allReduceTensor,
  allToAllTensor,
  broadcastTensor,
  createInMemoryNetwork,
  createTransportGroup,
  type ExtendedCollectiveGroupV1,
  reduceScatterTensor,
} from '../src/index.js';

function groups(worldSize: number): ExtendedCollectiveGroupV1[] {
  return createInMemoryNetwork(worldSize).endpoints.map((e) =>
    createTransportGroup(e, { timeoutMs: 10_000 }),
  );
}

/** Rank `r`'s input: values `r * 100 + i` (float32 gets a fractional part). */
function input(r: number, shape: number[], dtype: 'float32' | 'int32'): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => r * 100 + i + (dtype === 'float32' ? 0.25 : 0));
  return tf.tensor(vals, shape, dtype);
}

/** Element lists of a rank's input, built without tfjs (the reference side). */
function plain(r: number, n: number, dtype: 'float32' | 'int32'): number[] {
  return Array.from({ length: n }, (_, i) => r * 100 + i + (dtype === 'float32' ? 0.25 : 0));
}

describe('tensor collectives', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  const p = 2;
  const shape = [4, 3];
  const n = 12;

  for (const dtype of ['float32', 'int32'] as const) {
    it(`${dtype}: every collective keeps dtype and shape, leaves inputs untouched, leaks nothing`, async () => {
      const g = groups(p);
      const inputs = g.map((_, r) => input(r, shape, dtype));
      const before = tf.memory().numTensors;

      const reduced = await Promise.all(g.map((x, r) => allReduceTensor(x, inputs[r]!, 'sum')));
      const bcast = await Promise.all(g.map((x, r) => broadcastTensor(x, inputs[r]!, 1)));
      const gathered = await Promise.all(g.map((x, r) => allGatherTensor(x, inputs[r]!)));
      const scattered = await Promise.all(
        g.map((x, r) => reduceScatterTensor(x, inputs[r]!, 'max')),
      );
      const a2a = await Promise.all(g.map((x, r) => allToAllTensor(x, inputs[r]!)));
      expect(tf.memory().numTensors).toBe(before + 5 * p);

      const sum = plain(0, n, dtype).map((v, i) => v + plain(1, n, dtype)[i]!);
      for (let r = 0; r < p; r++) {
        for (const t of [reduced[r]!, bcast[r]!, a2a[r]!]) {
          expect(t.dtype).toBe(dtype);
          expect(t.shape).toEqual(shape);
        }
        expect(Array.from(reduced[r]!.dataSync())).toEqual(sum);
        expect(Array.from(bcast[r]!.dataSync())).toEqual(plain(1, n, dtype));
        expect(gathered[r]!.shape).toEqual([8, 3]);
        expect(gathered[r]!.dtype).toBe(dtype);
        expect(Array.from(gathered[r]!.dataSync())).toEqual([
          ...plain(0, n, dtype),
          ...plain(1, n, dtype),
        ]);
        // Rows [2r, 2r + 2) of the element-wise max, which is rank 1's input.
        expect(scattered[r]!.shape).toEqual([2, 3]);
        expect(Array.from(scattered[r]!.dataSync())).toEqual(
          plain(1, n, dtype).slice(r * 6, r * 6 + 6),
        );
        // Row block r of every rank, in rank order.
        expect(Array.from(a2a[r]!.dataSync())).toEqual([
          ...plain(0, n, dtype).slice(r * 6, r * 6 + 6),
          ...plain(1, n, dtype).slice(r * 6, r * 6 + 6),
        ]);
        expect(Array.from(inputs[r]!.dataSync())).toEqual(plain(r, n, dtype));
      }
      for (const t of [...reduced, ...bcast, ...gathered, ...scattered, ...a2a]) t.dispose();
      expect(tf.memory().numTensors).toBe(before);
      for (const t of inputs) t.dispose();
    });
  }

  it('a scalar gathers to shape [worldSize]; avg on int32 truncates', async () => {
    const g = groups(3);
    const before = tf.memory().numTensors;
    const scalars = g.map((_, r) => tf.scalar(r + 1, 'int32'));
    const out = await Promise.all(g.map((x, r) => allGatherTensor(x, scalars[r]!)));
    const avg = await Promise.all(g.map((x, r) => allReduceTensor(x, scalars[r]!, 'avg')));
    expect(out[2]!.shape).toEqual([3]);
    expect(Array.from(out[2]!.dataSync())).toEqual([1, 2, 3]);
    expect(avg[0]!.shape).toEqual([]);
    expect(avg[0]!.dataSync()[0]).toBe(2);
    for (const t of [...scalars, ...out, ...avg]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tensor calls are queued at call time, in issue order with array calls', async () => {
    const g = groups(2);
    const results = await Promise.all(
      g.map(async (x, r) => {
        const t = tf.tensor1d([r + 1], 'float32');
        const pending = allReduceTensor(x, t, 'sum');
        const after = await x.allGather(Float32Array.from([r]));
        const reduced = await pending;
        const value = reduced.dataSync()[0];
        tf.dispose([t, reduced]);
        return [value, Array.from(after)];
      }),
    );
    expect(results).toEqual([
      [3, [0, 1]],
      [3, [0, 1]],
    ]);
  });

  it('{ async: true } gives a Work whose tensor is made on the first wait()', async () => {
    const g = groups(2);
    const inputs = g.map((_, r) => input(r, [2, 2], 'float32'));
    const before = tf.memory().numTensors;
    const works = g.map((x, r) => allReduceTensor(x, inputs[r]!, 'min', { async: true }));
    const gathers = g.map((x, r) => allGatherTensor(x, inputs[r]!, { async: true }));
    // Wait for the collectives through an array call queued behind them.
    await Promise.all(g.map((x) => x.barrier()));
    expect(works.every((w) => w.isCompleted() && w.isSuccess())).toBe(true);
    // Completed but not yet waited on: no tensor allocated.
    expect(tf.memory().numTensors).toBe(before);
    const first = await works[1]!.wait();
    expect(await works[1]!.wait()).toBe(first);
    expect(first.shape).toEqual([2, 2]);
    expect(Array.from(first.dataSync())).toEqual(plain(0, 4, 'float32'));
    const gathered = await gathers[0]!.wait();
    expect(gathered.shape).toEqual([4, 2]);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([first, gathered, ...inputs]);
  });

  it('a timeout surfaces through wait() of a tensor Work', async () => {
    const [g] = groups(2);
    const t = tf.tensor1d([1, 2], 'int32');
    const before = tf.memory().numTensors;
    const w = broadcastTensor(g!, t, 1, { async: true, timeoutMs: 50 });
    await expect(w.wait()).rejects.toMatchObject({ code: 'timeout' });
    expect(w.isCompleted() && !w.isSuccess()).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('rejects unsupported dtypes, disposed tensors and indivisible first dimensions', async () => {
    const [g] = groups(2);
    const b = tf.tensor1d([1, 0], 'bool');
    const odd = tf.tensor2d([1, 2, 3], [3, 1]);
    const gone = tf.tensor1d([1]);
    gone.dispose();
    await expect(allReduceTensor(g!, b, 'sum')).rejects.toThrow(
      /^@plexus\/collectives\/tensor\/tensor-collectives: expected tensor to have dtype float32 or int32, got bool/,
    );
    await expect(allToAllTensor(g!, odd)).rejects.toThrow(
      /first dimension divisible by worldSize 2, got shape \[3, 1\]/,
    );
    await expect(allReduceTensor(g!, gone, 'sum')).rejects.toThrow(/already disposed/);
    // With { async: true } bad input throws at call time, as the group methods do.
    expect(() => allReduceTensor(g!, b, 'sum', { async: true })).toThrow(/float32 or int32/);
    tf.dispose([b, odd]);
  });
});
