import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { batchIndices } from './batch-offsets.js';
import { gemmInto, gemmScratchBytes } from './gemm-driver.js';
import { type GemmExports, gemmKernel } from './gemm-module.js';
import { isWasmMemory } from './wasm-api.js';

/** The parts of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
export interface WasmBackendLike {
  wasm: {
    asm?: { memory?: unknown };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

const MODULE = 'wasm-matmul';

/** The GEMM instance over a backend's heap, or null when it cannot run there. */
export function gemmForBackend(backend: WasmBackendLike): GemmExports | null {
  // emscripten's Module.asm holds the instance's exports; `memory` is the heap.
  const memory = backend.wasm?.asm?.memory;
  return isWasmMemory(memory) ? gemmKernel(memory) : null;
}

function broadcastBatch(a: number[], b: number[], shapes: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new PlexusTensorError(
        MODULE,
        `batch dims of ${shapes} do not broadcast (${da} vs ${db}); each must match or be 1`,
      );
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * tfjs `BatchMatMul` on the wasm heap with the SIMD GEMM of gemm.wat:
 * `out[..., m, n] = op(a)[..., m, k] · op(b)[..., k, n]` with numpy
 * broadcasting of the batch dims, computed in place on the tensors' heap
 * memory. `fallback` runs inputs this kernel does not take (non-float32, or a
 * runtime without wasm SIMD), so those behave exactly as in tfjs.
 */
export function wasmBatchMatMulConfig(fallback: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const backend = args.backend as unknown as WasmBackendLike;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const transA = args.attrs?.transposeA === true;
    const transB = args.attrs?.transposeB === true;
    const ex = a.dtype === 'float32' && b.dtype === 'float32' ? gemmForBackend(backend) : null;
    if (ex === null) return fallback.kernelFunc(args);
    const shapes = `a [${a.shape}]${transA ? 'ᵀ' : ''} and b [${b.shape}]${transB ? 'ᵀ' : ''}`;
    const ra = a.shape.length;
    const rb = b.shape.length;
    if (ra < 2 || rb < 2)
      throw new PlexusTensorError(MODULE, `matMul needs rank >= 2 inputs, got ${shapes}`);
    const m = a.shape[transA ? ra - 1 : ra - 2]!;
    const k = a.shape[transA ? ra - 2 : ra - 1]!;
    const kb = b.shape[transB ? rb - 1 : rb - 2]!;
    const n = b.shape[transB ? rb - 2 : rb - 1]!;
    if (k !== kb)
      throw new PlexusTensorError(
        MODULE,
        `inner dims of ${shapes} differ (${k} vs ${kb}); op(a) must be [..., m, k] and op(b) [..., k, n]`,
      );
    const aBatch = a.shape.slice(0, -2);
    const bBatch = b.shape.slice(0, -2);
    const outBatch = broadcastBatch(aBatch, bBatch, shapes);
    const out = backend.makeOutput([...outBatch, m, n], 'float32');
    const batches = outBatch.reduce((p, d) => p * d, 1);
    if (batches * m * n === 0) return out;
    const ptr = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const cPtr = ptr(out);
    if (k === 0) {
      // An empty sum: tfjs returns zeros.
      const memory = backend.wasm.asm?.memory;
      if (isWasmMemory(memory)) new Float32Array(memory.buffer, cPtr, batches * m * n).fill(0);
      return out;
    }
    const aPtr = ptr(a);
    const bPtr = ptr(b);
    const aCount = aBatch.reduce((p, d) => p * d, 1);
    const bCount = bBatch.reduce((p, d) => p * d, 1);
    // One B for every batch and a contiguous, untransposed A: the batch is
    // just more rows, one larger GEMM (packs B once, fewer edge tiles).
    const fold = bCount === 1 && aCount === batches && !transA;
    const rows = fold ? batches * m : m;
    const scratch = backend.wasm._malloc(gemmScratchBytes(rows, n, k)) >>> 0;
    try {
      if (fold) {
        gemmInto(ex, { a: aPtr, b: bPtr, c: cPtr, m: rows, n, k, transA, transB }, scratch);
      } else {
        const ai = batchIndices(outBatch, aBatch);
        const bi = batchIndices(outBatch, bBatch);
        for (let i = 0; i < batches; i++) {
          gemmInto(
            ex,
            {
              a: aPtr + ai[i]! * m * k * 4,
              b: bPtr + bi[i]! * k * n * 4,
              c: cPtr + i * m * n * 4,
              m,
              n,
              k,
              transA,
              transB,
            },
            scratch,
          );
        }
      }
    } finally {
      backend.wasm._free(scratch);
    }
    return out;
  };
  // tfjs runs the setup of the kernels registered when a backend starts; if
  // that was ours, the original still gets its setup (its cwrap) for the
  // fallback and for a later restore.
  const config: KernelConfig = { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc };
  if (fallback.setupFunc !== undefined) config.setupFunc = fallback.setupFunc;
  return config;
}
