import { describe, expect, it } from 'vitest';
import { jsReduceInto } from '../../src/reduction/js-reduce.js';
import { nativeReducer } from '../../src/reduction/native-reduce.js';
import { reduceElements } from '../../src/reduction/reducer.js';
import {
  createWasmReductionKernel,
  wasmReductionAvailable,
} from '../../src/reduction/wasm-kernel.js';
import { allIdentical, DTYPES, expectMatches, makeData, OPS, reference } from './helpers.js';

const LENGTHS = [0, 1, 3, 15, 16, 17, 33, 1000, 70_001];

describe('wasm SIMD reduction kernel', () => {
  it('is available on Node 20', () => {
    expect(wasmReductionAvailable()).toBe(true);
  });

  it('equals the JS loop bit for bit and the independent reference, staged and in place', () => {
    const staged = createWasmReductionKernel({ chunkBytes: 4096 })!;
    for (const dtype of DTYPES) {
      for (const op of OPS) {
        if (op === 'avg') continue;
        for (const n of LENGTHS) {
          if (n > 1000 && dtype === 'i64' && op === 'prod') continue;
          const a = makeData(dtype, op, n, 0, 3);
          const b = makeData(dtype, op, n, 1, 3);
          const expected = reference(dtype, op, [a, b]);
          const viaJs = a.slice();
          jsReduceInto(viaJs, b, op);
          const viaStaged = a.slice();
          staged.reduceInto(viaStaged, b, op);
          const tag = `${dtype} ${op} n=${n}`;
          expect(expectMatches(dtype, op, viaStaged, expected, 2), tag).toBe(undefined);
          expect(allIdentical([viaJs, viaStaged]), tag).toBe(true);
          {
            const arena = createWasmReductionKernel({ arenaBytes: 2 * n * 8 + 64 })!;
            const ctor = a.constructor as never;
            const inA = arena.allocate(ctor, n) as typeof a;
            const inB = arena.allocate(ctor, n) as typeof b;
            (inA as Float64Array).set(a as Float64Array);
            (inB as Float64Array).set(b as Float64Array);
            arena.reduceInto(inA, inB, op);
            expect(allIdentical([viaJs, inA]), `${tag} in place`).toBe(true);
          }
        }
      }
    }
  });

  it('handles NaN and signed zeros like the JS fallback (NaN sign bits may differ)', () => {
    const a = new Float32Array(300).fill(0);
    const b = new Float32Array(300).fill(-0);
    a[5] = Number.NaN;
    b[7] = Number.NaN;
    for (const op of ['min', 'max'] as const) {
      const x = a.slice();
      const y = a.slice();
      jsReduceInto(x, b, op);
      reduceElements(y, b, op);
      for (let i = 0; i < x.length; i++) {
        expect(
          Object.is(x[i], y[i]) || (Number.isNaN(x[i]) && Number.isNaN(y[i])),
          `${op} [${i}]`,
        ).toBe(true);
      }
      expect(Number.isNaN(y[5]!) && Number.isNaN(y[7]!)).toBe(true);
      expect(Object.is(y[0], op === 'min' ? -0 : 0)).toBe(true);
    }
  });

  it('rejects bad options and exhausted arenas with clear errors', () => {
    expect(() => createWasmReductionKernel({ chunkBytes: 10 })).toThrow(
      /^@plexus\/collectives\/reduction\/wasm: expected chunkBytes to be a positive multiple of 16/,
    );
    const k = createWasmReductionKernel({ arenaBytes: 64 })!;
    k.allocate(Float64Array, 8);
    expect(() => k.allocate(Float64Array, 1)).toThrow(/raise arenaBytes/);
  });
});

describe('wasm kernel over a shared memory', () => {
  it('reduces SharedArrayBuffer views in place and falls back to JS for outside arrays', () => {
    const Memory = (
      globalThis as unknown as {
        WebAssembly: { Memory: new (d: object) => { buffer: SharedArrayBuffer } };
      }
    ).WebAssembly.Memory;
    const memory = new Memory({ initial: 4, maximum: 16, shared: true });
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const k = createWasmReductionKernel({ memory })!;
    const n = 10_001;
    const a = new Float32Array(memory.buffer, 0, n);
    const b = new Float32Array(memory.buffer, 64 * 1024, n);
    const x = makeData('f32', 'sum', n, 0) as Float32Array;
    const y = makeData('f32', 'sum', n, 1) as Float32Array;
    a.set(x);
    b.set(y);
    k.reduceInto(a, b, 'sum');
    const viaJs = x.slice();
    jsReduceInto(viaJs, y, 'sum');
    expect(allIdentical([a, viaJs])).toBe(true);
    const outside = x.slice();
    k.reduceInto(outside, y, 'sum');
    expect(allIdentical([outside, viaJs])).toBe(true);
    expect(() => createWasmReductionKernel({ memory, arenaBytes: 64 })).toThrow(/external memory/);
  });
});

describe('native addon reduction', () => {
  const native = nativeReducer();
  it.skipIf(native === null)(
    'equals the JS loop bit for bit on every dtype and op, with NaN and signed zeros',
    () => {
      for (const dtype of DTYPES) {
        for (const op of OPS) {
          for (const n of [0, 1, 4095, 4096, 70_001]) {
            if (n > 1000 && dtype === 'i64' && op === 'prod') continue;
            const a = makeData(dtype, op, n, 0, 5);
            const b = makeData(dtype, op, n, 1, 5);
            if (a instanceof Float32Array || a instanceof Float64Array) {
              if (n > 10) {
                a[3] = Number.NaN;
                (b as typeof a)[4] = Number.NaN;
                a[5] = 0;
                (b as typeof a)[5] = -0;
                a[6] = -0;
                (b as typeof a)[6] = 0;
              }
            }
            const viaJs = a.slice();
            jsReduceInto(viaJs, b, op);
            const viaNative = a.slice();
            native!(viaNative, b, op);
            const viaDefault = a.slice();
            reduceElements(viaDefault, b, op);
            const tag = `${dtype} ${op} n=${n}`;
            for (let i = 0; i < n; i++) {
              const x = viaJs[i] as number;
              const y = viaNative[i] as number;
              const same = Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
              if (!same) expect(`${tag} [${i}]: ${y}`).toBe(`${tag} [${i}]: ${x}`);
            }
            if (!(a instanceof Float32Array || a instanceof Float64Array) || n < 10)
              expect(allIdentical([viaJs, viaNative, viaDefault]), tag).toBe(true);
          }
        }
      }
    },
  );
});
