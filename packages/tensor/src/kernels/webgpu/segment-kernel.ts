import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { disposeAll, fillTensor } from './backend-ops.js';
import { joinRowBlocks, sliceRows } from './buffer-copy.js';
import { webGpuKernelLimits } from './limits.js';
import { runProgram, viewAs, WORKGROUP_SIZE } from './program.js';
import { segmentMaxFinalizeProgram } from './segment-max-finalize-program.js';
import { segmentScatterProgram } from './segment-scatter-program.js';
import { dispatch2d, maxThreadsPerDispatch, splitRange } from './tiling.js';

/** i32 min: the segment-max key of a segment no row reached. */
const EMPTY_KEY = -2147483648;

/**
 * `PlexusSegmentSum` / `PlexusSegmentMax` on webgpu. The output is split
 * into segment blocks that each fit one binding (joined by buffer copies),
 * `data`/`segmentIds` into row blocks only when they do not fit, and each
 * block is dispatched in row chunks under the workgroup limit; atomics make
 * every chunk add into the same block.
 */
export function segmentWebGpu(reduce: 'sum' | 'max'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const b = backend as WebGPUBackend;
    const { data, segmentIds } = inputs as Record<string, TensorInfo>;
    const S = attrs?.['numSegments'] as number;
    const E = data!.shape[0]!;
    const F = data!.shape.length < 2 ? 1 : data!.shape[data!.shape.length - 1]!;
    if (S * F === 0) return b.makeTensorInfo([S, F], 'float32', new Float32Array(0));
    if (E === 0) return fillTensor(b, [S, F], 'float32', 0);

    const { maxWorkgroupsPerDimension: maxDim, maxBindingBytes } = webGpuKernelLimits(b.device);
    const maxElems = Math.floor(maxBindingBytes / 4);
    if (F > maxElems) {
      throw new PlexusTensorError(
        reduce === 'sum' ? 'segmentSum' : 'segmentMax',
        `one row of ${F} features exceeds the ${maxBindingBytes}-byte binding limit`,
      );
    }
    const maxThreads = maxThreadsPerDispatch(maxDim, WORKGROUP_SIZE);
    const data2d = viewAs(data!, [E, F]);
    const dataFits = E * F <= maxElems;
    const temps: TensorInfo[] = [];
    const rowBlocks = splitRange(E, dataFits ? E : Math.floor(maxElems / F)).map((rb) => {
      if (dataFits) return { rb, d: data2d, ids: segmentIds!, offset: rb.start };
      const d = sliceRows(b, data2d, rb.start, rb.size);
      const ids = sliceRows(b, segmentIds!, rb.start, rb.size);
      temps.push(d, ids);
      return { rb, d, ids, offset: 0 };
    });
    const dispatchRows = Math.max(1, Math.floor(maxThreads / F));

    const outs = splitRange(S, Math.floor(maxElems / F)).map((sb) => {
      const acc = fillTensor(
        b,
        [sb.size, F],
        reduce === 'max' ? 'int32' : 'float32',
        reduce === 'max' ? EMPTY_KEY : 0,
      );
      for (const { rb, d, ids, offset } of rowBlocks) {
        for (const sub of splitRange(rb.size, dispatchRows)) {
          const spec = segmentScatterProgram({
            reduce,
            rowOffset: offset + sub.start,
            numRows: sub.size,
            numFeatures: F,
            segmentStart: sb.start,
            numSegments: sb.size,
            dispatch: dispatch2d(sub.size * F, WORKGROUP_SIZE, maxDim),
          });
          runProgram(b, spec, [d, ids], acc);
        }
      }
      if (reduce === 'sum') return acc;
      const out = b.makeTensorInfo([sb.size, F], 'float32');
      for (const sub of splitRange(sb.size * F, maxThreads)) {
        const dispatch = dispatch2d(sub.size, WORKGROUP_SIZE, maxDim);
        runProgram(b, segmentMaxFinalizeProgram(sub.start, sub.size, dispatch), [acc], out);
      }
      b.disposeData(acc.dataId);
      return out;
    });
    disposeAll(b, temps);
    return joinRowBlocks(b, outs, [S, F], 'float32');
  };
}
