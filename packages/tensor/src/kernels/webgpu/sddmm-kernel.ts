import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { disposeAll, fillTensor, sliceTensor } from './backend-ops.js';
import { joinRowBlocks } from './join.js';
import { webGpuKernelLimits } from './limits.js';
import { runProgram, WORKGROUP_SIZE } from './program.js';
import { sddmmProgram } from './sddmm-program.js';
import { dispatch2d, maxThreadsPerDispatch, splitRange, vectorWidth } from './tiling.js';

/**
 * `PlexusSddmm` on webgpu. Entries are split into blocks whose `indices` and
 * output fit one binding (outputs joined by buffer copies); `a` and `b` are
 * bound whole when they fit (no copy), else sliced into feature blocks, and
 * into row blocks only if one feature group is too big, every block after
 * the first accumulating. `indptr` is always bound whole (the row search
 * needs all of it).
 */
export const sddmmWebGpu: KernelFunc = ({ inputs, backend }) => {
  const b = backend as WebGPUBackend;
  const { indptr, indices, a, b: right } = inputs as Record<string, TensorInfo>;
  const E = indices!.shape[0]!;
  const R = indptr!.shape[0]! - 1;
  const [, F] = a!.shape as [number, number];
  const C = right!.shape[0]!;
  if (E === 0) return b.makeTensorInfo([0], 'float32', new Float32Array(0));
  if (F === 0) return fillTensor(b, [E], 'float32', 0);

  const { maxWorkgroupsPerDimension: maxDim, maxBindingBytes } = webGpuKernelLimits(b.device);
  const maxElems = Math.floor(maxBindingBytes / 4);
  if (R + 1 > maxElems) {
    throw new PlexusTensorError(
      'sddmm',
      `indptr of ${R + 1} entries exceeds the ${maxBindingBytes}-byte binding limit`,
    );
  }
  const vec = vectorWidth(F);
  const maxThreads = maxThreadsPerDispatch(maxDim, WORKGROUP_SIZE);
  const maxSide = Math.max(R, C);
  let featBlock = F;
  if (maxSide * F > maxElems) {
    const fit = Math.floor(maxElems / maxSide);
    featBlock = Math.max(vec, vec === 4 ? fit - (fit % 4) : fit);
  }
  const aRows = R * featBlock <= maxElems ? R : Math.floor(maxElems / featBlock);
  const bRows = C * featBlock <= maxElems ? C : Math.floor(maxElems / featBlock);
  const entriesFit = E <= maxElems;

  const temps: TensorInfo[] = [];
  const entryBlocks = splitRange(E, entriesFit ? E : maxElems).map((eb) => {
    const idx = entriesFit ? indices! : sliceTensor(b, indices!, [eb.start], [eb.size]);
    if (!entriesFit) temps.push(idx);
    return { eb, idx, out: b.makeTensorInfo([eb.size], 'float32') };
  });
  // Slices of a or b are made once per block and reused by every entry block.
  const blocksOf = (t: TensorInfo, rows: number, rowBlock: number, fStart: number, fSize: number) =>
    splitRange(rows, rowBlock).map((rb) => {
      if (rb.size === rows && fSize === F) return { rb, t };
      const s = sliceTensor(b, t, [rb.start, fStart], [rb.size, fSize]);
      temps.push(s);
      return { rb, t: s };
    });
  let first = true;
  for (const fb of splitRange(F, featBlock)) {
    const aBlocks = blocksOf(a!, R, aRows, fb.start, fb.size);
    const bBlocks = blocksOf(right!, C, bRows, fb.start, fb.size);
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
              blockFeatures: fb.size,
              dispatch: dispatch2d(sub.size, WORKGROUP_SIZE, maxDim),
            });
            runProgram(b, spec, [indptr!, idx, ab.t, bb.t], out);
          }
        }
        first = false;
      }
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
