import type { DistanceKernel, KernelLayout } from './kernel.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm-api.js';
import { DISTANCE_WASM_BASE64 } from './wasm-bytes.generated.js';

interface KernelExports {
  l2(a: number, b: number, dim: number): number;
  ip(a: number, b: number, dim: number): number;
  l2_batch(
    q: number,
    base: number,
    stride: number,
    dim: number,
    ids: number,
    n: number,
    out: number,
  ): void;
  ip_batch(
    q: number,
    base: number,
    stride: number,
    dim: number,
    ids: number,
    n: number,
    out: number,
  ): void;
  l2_scan(q: number, base: number, stride: number, dim: number, n: number, out: number): void;
  ip_scan(q: number, base: number, stride: number, dim: number, n: number, out: number): void;
}

let compiled: WasmModule | null | undefined;

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * The compiled SIMD kernel module, or null where this runtime lacks
 * WebAssembly, SIMD or shared memory. Compiled once per thread; the module is
 * under 1 KiB, so synchronous compilation is allowed everywhere.
 */
export function distanceModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(decodeBase64(DISTANCE_WASM_BASE64)) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** True where the wasm SIMD kernel can run. */
export function wasmKernelAvailable(): boolean {
  return distanceModule() !== null && typeof SharedArrayBuffer !== 'undefined';
}

/** Instantiate the SIMD kernel over a shared wasm memory. */
export function createWasmKernel(memory: WasmMemory, layout: KernelLayout): DistanceKernel {
  const mod = distanceModule();
  if (mod === null || !wasmApi) throw new Error('wasm SIMD kernel unavailable');
  const ex = new wasmApi.Instance(mod, { env: { memory } }).exports as unknown as KernelExports;
  const dim = layout.paddedDim;
  const base = layout.vectorBase;
  const stride = dim * 4;
  if (layout.metric === 'l2') {
    const { l2, l2_batch, l2_scan } = ex;
    return {
      kind: 'wasm',
      pair: (a, b) => l2(a, b, dim),
      batch: (q, ids, n, out) => l2_batch(q, base, stride, dim, ids, n, out),
      scan: (q, first, n, out) => l2_scan(q, base + first * stride, stride, dim, n, out),
    };
  }
  const { ip, ip_batch, ip_scan } = ex;
  return {
    kind: 'wasm',
    pair: (a, b) => ip(a, b, dim),
    batch: (q, ids, n, out) => ip_batch(q, base, stride, dim, ids, n, out),
    scan: (q, first, n, out) => ip_scan(q, base + first * stride, stride, dim, n, out),
  };
}
