import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleWat, renderBytesModule } from '../../scripts/wasm-assemble.js';
import { VectorStore } from '../store/vector-store.js';

function reference(metric: 'l2' | 'ip', a: number[], b: number[]): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += metric === 'l2' ? (a[i]! - b[i]!) ** 2 : a[i]! * b[i]!;
  return metric === 'l2' ? acc : 1 - acc;
}

describe('distance kernels', () => {
  it('wasm SIMD and plain JS agree with a float64 reference for every dimension 1..40', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('l2' as const, 'ip' as const),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (dim, metric, seed) => {
          const n = 7;
          let s = seed;
          const rnd = (): number => {
            s = (s * 1103515245 + 12345) % 2147483648;
            return Math.fround((s / 2147483648) * 2 - 1);
          };
          const rows = Array.from({ length: n }, () => Array.from({ length: dim }, rnd));
          const results = (['wasm', 'js'] as const).map((kind) => {
            const store = VectorStore.create(dim, metric, n, 1, kind);
            expect(store.kernel.kind).toBe(kind);
            rows.forEach((r, i) => {
              store.writeVector('test', i, r);
            });
            const q = store.writeQuery('test', 0, rows[0]!);
            const ids = [3, 1, 6, 0];
            ids.forEach((id, i) => {
              store.i32[(store.idsAddress(0) >> 2) + i] = id;
            });
            store.kernel.batch(q, store.idsAddress(0), ids.length, store.outAddress(0));
            const batch = Array.from(
              store.f32.subarray(store.outAddress(0) >> 2, (store.outAddress(0) >> 2) + 4),
            );
            store.kernel.scan(q, 0, n, store.outAddress(0));
            const scan = Array.from(
              store.f32.subarray(store.outAddress(0) >> 2, (store.outAddress(0) >> 2) + n),
            );
            const pair = store.kernel.pair(store.vectorAddress(2), store.vectorAddress(5));
            return { batch, scan, pair, ids };
          });
          for (const r of results) {
            r.ids.forEach((id, i) => {
              expect(r.batch[i]!).toBeCloseTo(reference(metric, rows[0]!, rows[id]!), 4);
            });
            for (let j = 0; j < n; j++)
              expect(r.scan[j]!).toBeCloseTo(reference(metric, rows[0]!, rows[j]!), 4);
            expect(r.pair).toBeCloseTo(reference(metric, rows[2]!, rows[5]!), 4);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the committed wasm bytes match binaryen output for distance.wat', async () => {
    const wat = readFileSync(new URL('./distance.wat', import.meta.url), 'utf8');
    const committed = readFileSync(new URL('./wasm-bytes.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(renderBytesModule(await assembleWat(wat)));
  });
});
