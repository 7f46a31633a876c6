import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { disposeAll, fillTensor } from './backend-ops.js';
import { joinRowBlocks, sliceRows } from './buffer-copy.js';
import { webGpuKernelLimits } from './limits.js';
import { runProgram, WORKGROUP_SIZE } from './program.js';
import { sddmmProgram } from './sddmm-program.js';
import { dispatch2d, maxThreadsPerDispatch, splitRange, vectorWidth } from './tiling.js';

/**
 * `PlexusSddmm` on webgpu. Entries are split into blocks whose `indices` and
 * output fit one binding (outputs joined by buffer copies); `a` and `b` are
 * bound whole when they fit (no copy), else copied in row blocks, every
 * (a block, b block) pair after the first accumulating. `indptr` is always
 * bound whole: the row search needs all of it.
 */
export const sddmmWebGpu: KernelFunc = ({ inputs, backend }) => {
  const b = backend as WebGPUBackend;
  const { indptr, indices, a, b: right } = inputs as Record<string, TensorInfo>;
  const E = indices!.shape[0]!;
  const R = indptr!.shape[0]! - 1;
  const F = a!.shape[1]!;
  const C = right!.shape[0]!;
  if (E === 0) return b.makeTensorInfo([0], 'float32', new Float32Array(0));
  if (F === 0) return fillTensor(b, [E], 'float32', 0);

  const { maxWorkgroupsPerDimension: maxDim, maxBindingBytes } = webGpuKernelLimits(b.device);
  const maxElems = Math.floor(maxBindingBytes / 4);
  if (R + 1 > maxElems || F > maxElems) {
    throw new PlexusTensorError(
      'sddmm',
      `indptr (${R + 1} entries) and one row of ${F} features must each fit the ${maxBindingBytes}-byte binding limit`,
    );
  }
  const vec = vectorWidth(F);
  const maxThreads = maxThreadsPerDispatch(maxDim, WORKGROUP_SIZE);
  const entriesFit = E <= maxElems;
  const rowsPerBlock = Math.floor(maxElems / F);

  const temps: TensorInfo[] = [];
  const entryBlocks = splitRange(E, entriesFit ? E : maxElems).map((eb) => {
    const idx = entriesFit ? indices! : sliceRows(b, indices!, eb.start, eb.size);
    if (!entriesFit) temps.push(idx);
    return { eb, idx, out: b.makeTensorInfo([eb.size], 'float32') };
  });
  // Row blocks of a or b, copied once each and reused by every entry block.
  const blocksOf = (t: TensorInfo, rows: number) =>
    splitRange(rows, rows * F <= maxElems ? rows : rowsPerBlock).map((rb) => {
      if (rb.size === rows) return { rb, t };
      const s = sliceRows(b, t, rb.start, rb.size);
      temps.push(s);
      return { rb, t: s };
    });
  const aBlocks = blocksOf(a!, R);
  const bBlocks = blocksOf(right!, C);
  let first = true;
  for (const ab of aBlocks) {
    for (const bb of bBlocks) {
      for (const { eb, idx, out } of entryBlocks) {
        for (const sub of splitRange(eb.size, maxThreads)) {
          const spec = sddmmProgram({
            vec,
            accumulate: !first,
            numRows: R,
            entryStart: eb.start + sub.start,
            numEntries: sub.size,
            entryBase: eb.start,
            aRowStart: ab.rb.start,
            aNumRows: ab.rb.size,
            bRowStart: bb.rb.start,
            bNumRows: bb.rb.size,
            features: F,
            dispatch: dispatch2d(sub.size, WORKGROUP_SIZE, maxDim),
          });
          runProgram(b, spec, [indptr!, idx, ab.t, bb.t], out);
        }
      }
      first = false;
    }
  }
  disposeAll(b, temps);
  return joinRowBlocks(
    b,
    entryBlocks.map((e) => e.out),
    [E],
    'float32',
  );
};
