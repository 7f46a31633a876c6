import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { HostMemory } from './host-memory.js';

/**
 * tfjs' own `UnsortedSegmentSum` kernel for a host-memory backend that lacks
 * it (tfjs-backend-wasm has none, so the gradient of `tf.gather` fails there).
 * Follows TensorFlow's semantics: ids of any rank prefix the data's shape,
 * and ids outside `[0, numSegments)` are dropped.
 */
export function unsortedSegmentSumConfig(
  backendName: string,
  memoryOf: (backend: unknown) => HostMemory,
): KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const mem = memoryOf(backend);
      const rest = x.shape.slice(segmentIds.shape.length);
      const F = rest.reduce((a, d) => a * d, 1);
      return mem.allocate([{ shape: [numSegments, ...rest], dtype: x.dtype }], ([out]) => {
        const data = mem.view(x);
        const ids = mem.view(segmentIds);
        out!.fill(0);
        for (let e = 0; e < ids.length; e++) {
          const s = ids[e]!;
          if (s < 0 || s >= numSegments) continue;
          const o = s * F;
          const i = e * F;
          for (let f = 0; f < F; f++) out![o + f] = out![o + f]! + data[i + f]!;
        }
      })[0]!;
    },
  };
}
