import type * as tf from '@tensorflow/tfjs-core';
import { grid, int, runProgram, type WebGpuBackendLike } from './backend.js';

const MODULE = 'webgpu';
const WG = 64;

/**
 * Rows `rows[i]` (each `rowLength` floats) of `pool`, as a new `[n,
 * rowLength]` tensor: the read half of a move inside a pool (a tfjs program,
 * so it only reads its inputs).
 */
export function gatherRows(
  backend: WebGpuBackendLike,
  pool: tf.Tensor,
  rows: tf.Tensor1D,
  rowLength: number,
): tf.Tensor2D {
  const n = rows.size;
  const program = {
    outputShape: [n, rowLength],
    shaderKey: `plexusKvGatherRows_${rowLength}`,
    dispatchLayout: { x: [0] },
    dispatch: grid(Math.ceil((n * rowLength) / WG), MODULE),
    variableNames: ['pool', 'rows'],
    workgroupSize: [WG, 1, 1] as [number, number, number],
    uniforms: 'total : i32,',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.total) {
          let i = index / ${rowLength};
          result[index] = f32(pool[rows[i] * ${rowLength} + index - i * ${rowLength}]);
        }
      }
    `,
  };
  return runProgram<tf.Tensor2D>(backend, program, [pool, rows], [int(n * rowLength)]);
}

const scatterPipelines = new WeakMap<GPUDevice, Map<number, GPUComputePipeline>>();

function scatterPipeline(device: GPUDevice, rowLength: number): GPUComputePipeline {
  let byRow = scatterPipelines.get(device);
  if (byRow === undefined) {
    byRow = new Map();
    scatterPipelines.set(device, byRow);
  }
  let pipeline = byRow.get(rowLength);
  if (pipeline === undefined) {
    const code = `
      @group(0) @binding(0) var<storage, read_write> kPool : array<f32>;
      @group(0) @binding(1) var<storage, read_write> vPool : array<f32>;
      @group(0) @binding(2) var<storage, read> kSrc : array<f32>;
      @group(0) @binding(3) var<storage, read> vSrc : array<f32>;
      @group(0) @binding(4) var<storage, read> rows : array<i32>;
      struct Params { total : i32, numPoolRows : i32 }
      @group(0) @binding(5) var<uniform> params : Params;

      @compute @workgroup_size(${WG})
      fn main(@builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) nwg : vec3<u32>,
              @builtin(local_invocation_index) lid : u32) {
        let index = i32((wid.y * nwg.x + wid.x) * ${WG}u + lid);
        if (index >= params.total) { return; }
        let i = index / ${rowLength};
        let row = rows[i];
        // Negative or out-of-range rows are skipped (padding), never written.
        if (row < 0 || row >= params.numPoolRows) { return; }
        let dst = row * ${rowLength} + index - i * ${rowLength};
        kPool[dst] = kSrc[index];
        vPool[dst] = vSrc[index];
      }
    `;
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
    });
    byRow.set(rowLength, pipeline);
  }
  return pipeline;
}

/** The GPU buffer behind a tensor, uploading it first if its data is still on the host. */
export function bufferOf(backend: WebGpuBackendLike, t: tf.TensorInfo): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId)!.resource as GPUBuffer;
}

/**
 * In-place scatter: `kPool[rows[i]] = kSrc[i]`, `vPool[rows[i]] = vSrc[i]`
 * (rows of `rowLength` floats), recorded on tfjs' own command encoder so it
 * runs in order with the tfjs work before and after it. tfjs programs can
 * only write new outputs; this one writes into the pools' buffers.
 */
export function scatterRows(
  backend: WebGpuBackendLike,
  kPool: GPUBuffer,
  vPool: GPUBuffer,
  kSrc: tf.TensorInfo,
  vSrc: tf.TensorInfo,
  rows: tf.TensorInfo,
  rowLength: number,
): void {
  const n = rows.shape[0]!;
  if (n === 0) return;
  const device = backend.device;
  const pipeline = scatterPipeline(device, rowLength);
  const params = backend.makeUniforms([int(n * rowLength), int(kPool.size / 4 / rowLength)]);
  const entries = [
    kPool,
    vPool,
    bufferOf(backend, kSrc),
    bufferOf(backend, vSrc),
    bufferOf(backend, rows),
  ].map((buffer, binding) => ({ binding, resource: { buffer } }));
  entries.push({ binding: 5, resource: params });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  const pass = backend.commandEncoder!.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  const [dx, dy] = grid(Math.ceil((n * rowLength) / WG), MODULE);
  pass.dispatchWorkgroups(dx, dy, 1);
  pass.end();
  // Queued work reads these: tfjs defers releasing them until it submits.
  for (const t of [kSrc, vSrc, rows]) backend.commandQueueOwnedIds.add(t.dataId);
}
