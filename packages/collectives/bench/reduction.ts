// Reduction kernel benchmark: the wasm SIMD kernel (in place inside wasm
// memory, and staged from ordinary arrays) against the plain JS loop, on
// 1-64 MiB buffers. Writes bench/results/reduction.json.
//   npx tsx bench/reduction.ts [--quick]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { ElementArray } from '../src/reduction/dtype.js';
import { jsReduceInto } from '../src/reduction/js-reduce.js';
import { createWasmReductionKernel } from '../src/reduction/wasm-kernel.js';

const quick = process.argv.includes('--quick');
const MIB = 1 << 20;
const sizesMiB = quick ? [1, 4] : [1, 4, 16, 64];
const cases = [
  { dtype: 'f32', op: 'sum', ctor: Float32Array },
  { dtype: 'f32', op: 'max', ctor: Float32Array },
  { dtype: 'f64', op: 'sum', ctor: Float64Array },
  { dtype: 'i32', op: 'sum', ctor: Int32Array },
  { dtype: 'i32', op: 'prod', ctor: Int32Array },
  { dtype: 'i64', op: 'sum', ctor: BigInt64Array },
  { dtype: 'u8', op: 'max', ctor: Uint8Array },
] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, bytes: number): number {
  fn(); // warm-up (JIT, page faults)
  const reps = Math.max(3, Math.min(15, Math.round((256 * MIB) / bytes)));
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

function fill(a: ElementArray) {
  if (a instanceof BigInt64Array) {
    for (let i = 0; i < a.length; i++) a[i] = BigInt((i % 97) - 48);
    return;
  }
  const f = a as Float32Array;
  for (let i = 0; i < f.length; i++) f[i] = (i % 97) - 48;
}

const maxBytes = Math.max(...sizesMiB) * MIB;
const kernel = createWasmReductionKernel({ arenaBytes: 2 * maxBytes + 64 });
if (!kernel) throw new Error('WebAssembly SIMD is unavailable on this runtime');
const results: Record<string, unknown>[] = [];
for (const c of cases) {
  for (const mib of sizesMiB) {
    const bytes = mib * MIB;
    const n = bytes / c.ctor.BYTES_PER_ELEMENT;
    const accJs = new c.ctor(n);
    const src = new c.ctor(n);
    fill(accJs);
    fill(src);
    const accStaged = accJs.slice();
    const k = createWasmReductionKernel({ arenaBytes: 2 * bytes + 64 })!;
    const accIn = k.allocate(c.ctor as never, n) as ElementArray;
    const srcIn = k.allocate(c.ctor as never, n) as ElementArray;
    (accIn as Float32Array).set(accJs as Float32Array);
    (srcIn as Float32Array).set(src as Float32Array);
    const js = time(() => jsReduceInto(accJs, src, c.op), bytes);
    const staged = time(() => kernel.reduceInto(accStaged, src, c.op), bytes);
    const inPlace = time(() => k.reduceInto(accIn, srcIn, c.op), bytes);
    const gbps = (ms: number) => +(bytes / 1e9 / (ms / 1e3)).toFixed(2);
    const row = {
      dtype: c.dtype,
      op: c.op,
      mib,
      jsMs: +js.toFixed(3),
      wasmInPlaceMs: +inPlace.toFixed(3),
      wasmStagedMs: +staged.toFixed(3),
      jsGBps: gbps(js),
      wasmInPlaceGBps: gbps(inPlace),
      wasmStagedGBps: gbps(staged),
      jsOverWasmInPlace: +(js / inPlace).toFixed(2),
      jsOverWasmStaged: +(js / staged).toFixed(2),
    };
    results.push(row);
    console.log(JSON.stringify(row));
  }
}

const out = {
  benchmark: 'reduction kernel: acc[i] = acc[i] op src[i], one buffer of src per call',
  note: 'GB/s counts one operand (the buffer size) per call; median of several runs after a warm-up. wasmInPlace: both arrays inside wasm memory; wasmStaged: ordinary arrays copied through 64 KiB chunks of wasm memory. jsReduceInto is one generic function for every element type, so its element accesses go polymorphic as the benchmark moves through types (as they do in a process reducing several dtypes); cases run in the order listed.',
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage: loadavg(),
  date: new Date().toISOString(),
  quick,
  results,
};
if (!quick) {
  writeFileSync(
    new URL('./results/reduction.json', import.meta.url),
    `${JSON.stringify(out, null, 2)}\n`,
  );
}
