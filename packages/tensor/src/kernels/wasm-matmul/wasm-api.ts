/**
 * The slice of the WebAssembly JS API the GEMM uses. Typed here because
 * `@types/node` 20 declares only a namespace without these classes, and the
 * package must not depend on the DOM lib.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** A compiled module (opaque). */
export type WasmModule = object;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi })
  .WebAssembly;

/** Whether `x` is a `WebAssembly.Memory`. */
export function isWasmMemory(x: unknown): x is WasmMemory {
  return wasmApi !== undefined && x instanceof wasmApi.Memory;
}
