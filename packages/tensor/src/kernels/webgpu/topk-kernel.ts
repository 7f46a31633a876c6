import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../../errors.js';
import { disposeAll } from './backend-ops.js';
import { joinRowBlocks, sliceRows } from './buffer-copy.js';
import { webGpuKernelLimits } from './limits.js';
import { runProgram, viewAs, WORKGROUP_SIZE } from './program.js';
import { dispatch2d, maxThreadsPerDispatch, splitRange } from './tiling.js';
import { topKIndicesProgram } from './topk-indices-program.js';
import { topKValuesProgram } from './topk-values-program.js';

/**
 * `PlexusTopK` on webgpu, along the last axis of any rank. Rows are split
 * into blocks whose `[rows, k]` outputs (and `[rows, n]` input, if the whole
 * input does not fit) each fit one binding, joined by buffer copies; each
 * block is dispatched in row chunks under the workgroup limit.
 */
export const topKWebGpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WebGPUBackend;
  const x = inputs['x']!;
  const k = attrs?.['k'] as number;
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.shape.reduce((p, d) => p * d, 1) / n;
  const outShape = [...x.shape.slice(0, -1), k];
  if (rows * k === 0) {
    return [
      b.makeTensorInfo(outShape, 'float32', new Float32Array(0)),
      b.makeTensorInfo(outShape, 'int32', new Int32Array(0)),
    ];
  }
  const { maxWorkgroupsPerDimension: maxDim, maxBindingBytes } = webGpuKernelLimits(b.device);
  const maxElems = Math.floor(maxBindingBytes / 4);
  if (n > maxElems) {
    throw new PlexusTensorError(
      'topK',
      `one row of ${n} values exceeds the ${maxBindingBytes}-byte binding limit`,
    );
  }
  const maxThreads = maxThreadsPerDispatch(maxDim, WORKGROUP_SIZE);
  const x2d = viewAs(x, [rows, n]);
  const xFits = rows * n <= maxElems;
  const rowBlock = Math.floor(maxElems / (xFits ? k : Math.max(n, k)));
  const temps: TensorInfo[] = [];
  const values: TensorInfo[] = [];
  const indices: TensorInfo[] = [];
  for (const rb of splitRange(rows, rowBlock)) {
    const xs = xFits ? x2d : sliceRows(b, x2d, rb.start, rb.size);
    if (!xFits) temps.push(xs);
    const xOffset = xFits ? rb.start : 0;
    const idx = b.makeTensorInfo([rb.size, k], 'int32');
    for (const sub of splitRange(rb.size, maxThreads)) {
      const spec = topKIndicesProgram({
        n,
        k,
        rowOffset: xOffset + sub.start,
        numRows: sub.size,
        outRowOffset: sub.start,
        dispatch: dispatch2d(sub.size, WORKGROUP_SIZE, maxDim),
      });
      runProgram(b, spec, [xs], idx);
    }
    const vals = b.makeTensorInfo([rb.size, k], 'float32');
    for (const sub of splitRange(rb.size * k, maxThreads)) {
      const dispatch = dispatch2d(sub.size, WORKGROUP_SIZE, maxDim);
      runProgram(
        b,
        topKValuesProgram(n, k, xOffset, sub.start, sub.size, dispatch),
        [xs, idx],
        vals,
      );
    }
    values.push(vals);
    indices.push(idx);
  }
  disposeAll(b, temps);
  return [
    { ...joinRowBlocks(b, values, [rows, k], 'float32'), shape: outShape },
    { ...joinRowBlocks(b, indices, [rows, k], 'int32'), shape: outShape },
  ];
};
