export { initBackend } from './backend/init-backend.js';
export type {
  BackendAttempt,
  BackendChoice,
  InitBackendOptions,
  PlexusBackendName,
} from './backend/types.js';
export { BACKEND_ORDER } from './backend/types.js';
export type { CsrArrays, CsrFromArraysOptions, CsrTranspose } from './csr/csr-matrix.js';
export { CsrMatrix, validateCsrArrays } from './csr/csr-matrix.js';
export { PlexusTensorError } from './errors.js';
export { spmmHost } from './kernels/host/spmm-host.js';
export { PLEXUS_KERNELS, SDDMM, SEGMENT_MAX, SEGMENT_SUM, SPMM, TOP_K } from './kernels/names.js';
export { registerPlexusKernels } from './kernels/register.js';
export { setWasmMatMulEnabled, wasmMatMulActive } from './kernels/wasm-matmul/install.js';
export type { WebGpuKernelLimits } from './kernels/webgpu/limits.js';
export { setWebGpuKernelLimits } from './kernels/webgpu/limits.js';
export type { MemoryReport } from './memory.js';
export { assertNoTensorLeak, memoryReport } from './memory.js';
export { sddmm } from './ops/sddmm.js';
export { segmentMax, segmentMean, segmentSoftmax, segmentSum } from './ops/segment.js';
export type { SegmentIds } from './ops/segment-ids.js';
export type { SpmmOptions } from './ops/spmm.js';
export { spmm, spmmComposite } from './ops/spmm.js';
export type { TallMatMulOptions } from './ops/tall-matmul.js';
export { defaultSplitK, matMulTransposeASplitK, tallMatMul } from './ops/tall-matmul.js';
export type { TopKResult } from './ops/top-k.js';
export { topK } from './ops/top-k.js';
export { randomNormalTensor, randomUniformTensor, SeededRandom } from './random.js';
