import type { ReduceOp } from '../types.js';
import type { ElementArray } from './dtype.js';
import { jsReduceInto } from './js-reduce.js';
import { nativeReducer } from './native-reduce.js';
import { createWasmReductionKernel, type WasmReductionKernel } from './wasm-kernel.js';

/**
 * Below this many elements the JS loop runs: staging tiny arrays through
 * wasm memory costs more than the loop. Above it the wasm SIMD kernel runs;
 * bench/results/reduction.json measured the staged kernel at 1.4-14x the
 * JS loop's speed on 1-4 MiB (and 9-78x when the arrays live in wasm memory).
 */
export const WASM_MIN_ELEMENTS = 256;

/**
 * From this many elements the native addon's loop runs where it is built
 * (`nativeReducer`): it reads the arrays in place, where the wasm kernel
 * stages them through its memory; below it the N-API call costs more than
 * it saves.
 */
export const NATIVE_MIN_ELEMENTS = 4096;

let kernel: WasmReductionKernel | null | undefined;

/** The shared default kernel of this thread, or null without WebAssembly SIMD. */
export function defaultWasmKernel(): WasmReductionKernel | null {
  if (kernel === undefined) kernel = createWasmReductionKernel();
  return kernel;
}

/**
 * The default element-wise reduction `acc[i] = acc[i] (op) src[i]` used by
 * every algorithm: the native addon from `NATIVE_MIN_ELEMENTS` elements up
 * where it is built, the wasm SIMD kernel from `WASM_MIN_ELEMENTS` where the
 * runtime has it, the JS loop otherwise. All give bit-identical results, so
 * ranks on different hosts still agree.
 */
export function reduceElements(acc: ElementArray, src: ElementArray, op: ReduceOp): void {
  if (acc.length >= NATIVE_MIN_ELEMENTS) {
    const native = nativeReducer();
    if (native) {
      native(acc, src, op);
      return;
    }
  }
  if (acc.length >= WASM_MIN_ELEMENTS) {
    const k = defaultWasmKernel();
    if (k) {
      k.reduceInto(acc, src, op);
      return;
    }
  }
  jsReduceInto(acc, src, op);
}
