import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init-backend.js';
import { CsrMatrix } from '../csr/csr-matrix.js';
import { expectArraysClose } from '../testing/expect-close.js';
import { referenceSegment, referenceSpmm, referenceTopK } from '../testing/reference.js';
import { segmentMax, segmentSum } from './segment.js';
import { spmm } from './spmm.js';
import { topK } from './top-k.js';

// Random shapes against the plain-JS references, on both host backends.
const graph = fc
  .record({ n: fc.integer({ min: 1, max: 30 }), f: fc.integer({ min: 1, max: 19 }) })
  .chain(({ n, f }) =>
    fc.record({
      n: fc.constant(n),
      f: fc.constant(f),
      edges: fc.array(
        fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.float({ min: -2, max: 2, noNaN: true })),
        { maxLength: 120 },
      ),
      hub: fc.boolean(),
      seed: fc.nat(),
    }),
  );

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`random-shape properties on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('spmm matches the reference (empty rows, duplicates, hubs, self loops)', () => {
      fc.assert(
        fc.property(graph, ({ n, f, edges, hub, seed }) => {
          const all = hub
            ? [
                ...edges,
                ...Array.from({ length: n }, (_, j) => [0, j, 1] as [number, number, number]),
              ]
            : edges;
          const m = CsrMatrix.fromCoo(
            all.map((e) => e[0]),
            all.map((e) => e[1]),
            [n, n],
            all.map((e) => e[2]),
          );
          const x = Float32Array.from({ length: n * f }, (_, i) => Math.sin(seed + i));
          const before = tf.memory().numTensors;
          const out = tf.tidy(() => spmm(m, tf.tensor2d(x, [n, f])));
          expectArraysClose(
            out.dataSync(),
            referenceSpmm(m.indptr, m.indices, m.values, x, f),
            1e-4,
          );
          out.dispose();
          m.dispose();
          expect(tf.memory().numTensors).toBe(before);
        }),
        { numRuns: 60 },
      );
    });

    it('segment sum and max match the reference', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 12 }),
          fc.array(fc.nat(11), { maxLength: 50 }),
          fc.integer({ min: 1, max: 6 }),
          (segments, rawIds, f) => {
            const ids = Int32Array.from(rawIds.map((i) => i % segments));
            const data = Float32Array.from({ length: ids.length * f }, (_, i) => Math.cos(i * 1.7));
            const [s, mx] = tf.tidy(() => {
              const d = tf.tensor2d(data, [ids.length, f]);
              return [segmentSum(d, ids, segments), segmentMax(d, ids, segments)];
            });
            expectArraysClose(s!.dataSync(), referenceSegment('sum', data, ids, segments, f), 1e-5);
            expectArraysClose(
              mx!.dataSync(),
              referenceSegment('max', data, ids, segments, f),
              1e-6,
            );
            tf.dispose([s!, mx!]);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('topK matches a full sort', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 9 }),
          fc.integer({ min: 1, max: 40 }),
          fc.nat(),
          (rows, n, seed) => {
            const k = (seed % n) + 1;
            // Few distinct values, so ties are common.
            const x = Float32Array.from({ length: rows * n }, (_, i) =>
              Math.round(Math.sin(seed + i * 3.1) * 4),
            );
            const r = tf.tidy(() => {
              const out = topK(tf.tensor2d(x, [rows, n]), k);
              return [out.values, out.indices];
            });
            const ref = referenceTopK(x, rows, n, k);
            expectArraysClose(r[0]!.dataSync(), ref.values, 0);
            expectArraysClose(r[1]!.dataSync(), ref.indices, 0);
            tf.dispose(r);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
