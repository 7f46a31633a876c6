import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { disposeAll, fillTensor } from './backend-ops.js';
import { joinRowBlocks, sliceRows } from './buffer-copy.js';
import { webGpuKernelLimits } from './limits.js';
import { runProgram, WORKGROUP_SIZE } from './program.js';
import { spmmProgram } from './spmm-program.js';
import { dispatch2d, maxThreadsPerDispatch, splitRange, vectorWidth } from './tiling.js';

/**
 * `PlexusSpmm` on webgpu. Plans the work so that no binding exceeds
 * `maxBindingBytes` and no dispatch exceeds `maxWorkgroupsPerDimension`²
 * workgroups; every split is along rows, so each piece is one contiguous
 * byte range, moved by a buffer copy (no binding) only when it must be:
 * - output rows are split into blocks whose `[rows, F]` fits one binding,
 *   joined at the end (one block, no copy, when the output fits);
 * - `x` is bound whole when it fits (no copy), else copied in row blocks
 *   (column blocks of the matrix), each dispatch taking only its columns;
 * - `indices`/`weights` (and `indptr`) are copied in blocks only when they
 *   do not fit;
 * - each output block is dispatched in row chunks under the workgroup limit.
 * Later entry/column blocks accumulate into the output the first one wrote.
 */
export const spmmWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WebGPUBackend;
  const { indptr, indices, x, weights } = inputs as Record<string, TensorInfo | undefined>;
  const R = (attrs?.['numRows'] as number | undefined) ?? indptr!.shape[0]! - 1;
  const [C, F] = x!.shape as [number, number];
  const E = indices!.shape[0]!;
  if (R * F === 0) return b.makeTensorInfo([R, F], 'float32', new Float32Array(0));
  // No entries: every row sums nothing (and zero-size buffers cannot be bound).
  if (E === 0) return fillTensor(b, [R, F], 'float32', 0);

  const { maxWorkgroupsPerDimension: maxDim, maxBindingBytes } = webGpuKernelLimits(b.device);
  const maxElems = Math.floor(maxBindingBytes / 4);
  if (F > maxElems) {
    throw new PlexusTensorError(
      'spmm',
      `one row of ${F} features exceeds the ${maxBindingBytes}-byte binding limit`,
    );
  }
  const vec = vectorWidth(F);
  const chunks = F / vec;
  const maxThreads = maxThreadsPerDispatch(maxDim, WORKGROUP_SIZE);
  const xFits = C * F <= maxElems;
  const indptrFits = R + 1 <= maxElems;
  const entriesFit = E <= maxElems;
  const rowBlock = Math.floor(maxElems / F) - (indptrFits ? 0 : 1);
  // A thread per (row, feature group) must fit one dispatch.
  if (chunks > maxThreads) {
    throw new PlexusTensorError('spmm', `${F} features need more threads than one dispatch allows`);
  }
  const dispatchRows = Math.floor(maxThreads / chunks);

  const temps: TensorInfo[] = [];
  const rowBlocks = splitRange(R, Math.max(1, rowBlock));
  const outs = rowBlocks.map((rb) => b.makeTensorInfo([rb.size, F], 'float32'));
  const indptrs = rowBlocks.map((rb) => {
    if (indptrFits) return { t: indptr!, offset: rb.start };
    const t = sliceRows(b, indptr!, rb.start, rb.size + 1);
    temps.push(t);
    return { t, offset: 0 };
  });
  const entryBlocks = splitRange(E, entriesFit ? E : maxElems).map((eb) => {
    if (entriesFit) return { eb, idx: indices!, w: weights, base: 0 };
    const idx = sliceRows(b, indices!, eb.start, eb.size);
    const w = weights === undefined ? undefined : sliceRows(b, weights, eb.start, eb.size);
    temps.push(idx, ...(w === undefined ? [] : [w]));
    return { eb, idx, w, base: eb.start };
  });

  splitRange(C, xFits ? C : Math.floor(maxElems / F)).forEach((cb, ci) => {
    const xs = xFits ? x! : sliceRows(b, x!, cb.start, cb.size);
    entryBlocks.forEach(({ eb, idx, w, base }, ei) => {
      rowBlocks.forEach((rb, ri) => {
        const ip = indptrs[ri]!;
        for (const sub of splitRange(rb.size, dispatchRows)) {
          const spec = spmmProgram({
            vec,
            weighted: w !== undefined,
            accumulate: ci > 0 || ei > 0,
            rowOffset: ip.offset + sub.start,
            numRows: sub.size,
            outRowOffset: sub.start,
            entryBase: base,
            entryStart: eb.start,
            entryEnd: eb.start + eb.size,
            colStart: cb.start,
            numCols: cb.size,
            features: F,
            dispatch: dispatch2d(sub.size * chunks, WORKGROUP_SIZE, maxDim),
          });
          const programInputs = w === undefined ? [ip.t, idx, xs] : [ip.t, idx, xs, w];
          runProgram(b, spec, programInputs, outs[ri]!);
        }
      });
    });
    if (!xFits) b.disposeData(xs.dataId);
  });
  disposeAll(b, temps);
  return joinRowBlocks(b, outs, [R, F], 'float32');
};
