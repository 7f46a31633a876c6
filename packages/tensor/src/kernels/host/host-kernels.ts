import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { SDDMM, SEGMENT_MAX, SEGMENT_SUM, SPMM, TOP_K } from '../names.js';
import type { HostMemory } from './host-memory.js';
import { segmentMaxHost, segmentSumHost } from './segment-host.js';
import { sddmmHost, spmmHost } from './spmm-host.js';
import { topKHost } from './topk-host.js';

type HostKernel = (
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  mem: HostMemory,
) => TensorInfo | TensorInfo[];

function lastDim(t: TensorInfo): number {
  return t.shape.length < 2 ? 1 : t.shape[t.shape.length - 1]!;
}

const spmm: HostKernel = (inputs, attrs, mem) => {
  const { indptr, indices, x, weights } = inputs as Record<string, TensorInfo>;
  const numRows = attrs['numRows'] as number;
  const F = x!.shape[1]!;
  return mem.allocate([{ shape: [numRows, F], dtype: 'float32' }], ([out]) => {
    spmmHost(
      mem.view(indptr!) as Int32Array,
      mem.view(indices!) as Int32Array,
      weights === undefined ? null : (mem.view(weights) as Float32Array),
      mem.view(x!) as Float32Array,
      numRows,
      F,
      out as Float32Array,
    );
  })[0]!;
};

const sddmm: HostKernel = (inputs, _attrs, mem) => {
  const { indptr, indices, a, b } = inputs as Record<string, TensorInfo>;
  const nnz = indices!.shape[0]!;
  return mem.allocate([{ shape: [nnz], dtype: 'float32' }], ([out]) => {
    sddmmHost(
      mem.view(indptr!) as Int32Array,
      mem.view(indices!) as Int32Array,
      mem.view(a!) as Float32Array,
      mem.view(b!) as Float32Array,
      indptr!.shape[0]! - 1,
      a!.shape[1]!,
      out as Float32Array,
    );
  })[0]!;
};

function segmentKernel(impl: typeof segmentSumHost): HostKernel {
  return (inputs, attrs, mem) => {
    const { data, segmentIds } = inputs as Record<string, TensorInfo>;
    const numSegments = attrs['numSegments'] as number;
    const F = lastDim(data!);
    return mem.allocate([{ shape: [numSegments, F], dtype: 'float32' }], ([out]) => {
      impl(
        mem.view(data!) as Float32Array,
        mem.view(segmentIds!) as Int32Array,
        numSegments,
        F,
        out as Float32Array,
      );
    })[0]!;
  };
}

const topK: HostKernel = (inputs, attrs, mem) => {
  const x = inputs['x']!;
  const k = attrs['k'] as number;
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.shape.reduce((p, d) => p * d, 1) / n;
  const outShape = [...x.shape.slice(0, -1), k];
  return mem.allocate(
    [
      { shape: outShape, dtype: 'float32' },
      { shape: outShape, dtype: 'int32' },
    ],
    ([values, indices]) => {
      topKHost(
        mem.view(x) as Float32Array,
        rows,
        n,
        k,
        values as Float32Array,
        indices as Int32Array,
      );
    },
  );
};

const HOST_KERNELS: Record<string, HostKernel> = {
  [SPMM]: spmm,
  [SDDMM]: sddmm,
  [SEGMENT_SUM]: segmentKernel(segmentSumHost),
  [SEGMENT_MAX]: segmentKernel(segmentMaxHost),
  [TOP_K]: topK,
};

/** Kernel configs running the host kernels on a host-memory backend (`cpu`, `wasm`). */
export function hostKernelConfigs(
  backendName: string,
  memoryOf: (backend: unknown) => HostMemory,
): KernelConfig[] {
  return Object.entries(HOST_KERNELS).map(([kernelName, impl]) => {
    const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
      impl(inputs, attrs ?? {}, memoryOf(backend));
    return { kernelName, backendName, kernelFunc };
  });
}
