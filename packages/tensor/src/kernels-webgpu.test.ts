import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/init-backend.js';
import { CsrMatrix } from './csr/csr-matrix.js';
import { setWebGpuKernelLimits } from './kernels/webgpu/limits.js';
import { sddmm } from './ops/sddmm.js';
import { segmentMax, segmentSum } from './ops/segment.js';
import { spmm } from './ops/spmm.js';
import { topK } from './ops/top-k.js';
import { SeededRandom } from './random.js';
import { kernelConformanceCases } from './testing/conformance.js';
import { expectArraysClose } from './testing/expect-close.js';
import { referenceSegment, referenceSpmm, referenceTopK } from './testing/reference.js';

// Probe for an adapter once, before the suites are declared: without one
// (no GPU and no lavapipe) the suites are skipped, saying why.
let skipReason: string | undefined;
try {
  await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
} catch (error) {
  skipReason = `webgpu kernel tests skipped: no WebGPU adapter (${error instanceof Error ? error.message : String(error)}); install lavapipe (shared/gpu/install-lavapipe.sh) to run them`;
  console.warn(skipReason);
}

const ensureWebGpu = async (): Promise<void> => {
  if (tf.getBackend() !== 'webgpu')
    await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
};

const read = async (t: tf.Tensor): Promise<Float32Array | Int32Array> =>
  (await t.data()) as Float32Array | Int32Array;

describe.skipIf(skipReason !== undefined)('kernel conformance on webgpu', () => {
  beforeAll(ensureWebGpu);
  afterAll(() => {
    tf.disposeVariables();
  });
  for (const c of kernelConformanceCases({ scale: 1 })) {
    it(c.name, async () => {
      await ensureWebGpu();
      await c.run();
    });
  }
});

/** A random CSR matrix with duplicates and empty rows. */
function randomMatrix(
  rng: SeededRandom,
  rows: number,
  cols: number,
  nnz: number,
  weighted: boolean,
): CsrMatrix {
  const r = Array.from({ length: nnz }, () => rng.int(rows));
  const c = Array.from({ length: nnz }, () => rng.int(cols));
  const w = weighted ? Array.from({ length: nnz }, () => rng.uniform() * 2 - 1) : undefined;
  return CsrMatrix.fromCoo(r, c, [rows, cols], w);
}

describe.skipIf(skipReason !== undefined)('webgpu kernels under tiny tiling limits', () => {
  beforeAll(ensureWebGpu);
  afterEach(() => setWebGpuKernelLimits({}));

  const spmmLimits = [
    { name: '2-D dispatch', limits: { maxWorkgroupsPerDimension: 2 } },
    { name: 'row chunks per dispatch', limits: { maxWorkgroupsPerDimension: 1 } },
    {
      name: 'row, entry, feature and column blocks',
      limits: { maxBindingBytes: 256, maxWorkgroupsPerDimension: 1 },
    },
    { name: 'binding blocks only', limits: { maxBindingBytes: 512 } },
  ];
  for (const { name, limits } of spmmLimits) {
    for (const F of [3, 8, 17]) {
      it(`spmm ${name}, F=${F}`, async () => {
        const rng = new SeededRandom(F);
        const m = randomMatrix(rng, 300, 70, 900, true);
        const x = rng.fillNormal(new Float32Array(m.numCols * F));
        const xt = tf.tensor2d(x, [m.numCols, F]);
        const expected = referenceSpmm(m.indptr, m.indices, m.values, x, F);
        const plain = spmm(m, xt);
        const plainValues = await read(plain);
        setWebGpuKernelLimits(limits);
        const tiled = spmm(m, xt);
        expectArraysClose(await read(tiled), expected, 1e-4, `tiled spmm ${name}`);
        expectArraysClose(plainValues, expected, 1e-4, 'untiled spmm');
        tf.dispose([xt, plain, tiled]);
      });
    }
  }
});
