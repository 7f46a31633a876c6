import { GEMM_WASM_BASE64, GEMM_WASM_SHARED_BASE64 } from './gemm-wasm.generated.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm-api.js';

/** The functions of gemm.wat; every pointer is a byte offset into the imported memory. */
export interface GemmExports {
  pack_a(src: number, dst: number, mc: number, kc: number, sm: number, sk: number): void;
  pack_b(src: number, dst: number, kc: number, nc: number, sk: number, sn: number): void;
  gemm(
    ap: number,
    bp: number,
    mc: number,
    nc: number,
    kc: number,
    c: number,
    ldc: number,
    acc: number,
    tmp: number,
  ): void;
}

const compiled = new Map<boolean, WasmModule | null>();
const instances = new WeakMap<WasmMemory, GemmExports>();

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function gemmModule(shared: boolean): WasmModule | null {
  const cached = compiled.get(shared);
  if (cached !== undefined) return cached;
  let mod: WasmModule | null = null;
  try {
    // A few KiB: synchronous compilation is allowed on every runtime.
    if (wasmApi)
      mod = new wasmApi.Module(decodeBase64(shared ? GEMM_WASM_SHARED_BASE64 : GEMM_WASM_BASE64));
  } catch {
    mod = null; // no WebAssembly SIMD here
  }
  compiled.set(shared, mod);
  return mod;
}

/**
 * The GEMM kernel instantiated over `memory` (tfjs-backend-wasm's heap), one
 * instance per memory; null where this runtime cannot compile wasm SIMD.
 */
export function gemmKernel(memory: WasmMemory): GemmExports | null {
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const mod = gemmModule(shared);
  if (mod === null || !wasmApi) return null;
  const ex = new wasmApi.Instance(mod, { env: { memory } }).exports as unknown as GemmExports;
  instances.set(memory, ex);
  return ex;
}
