import { PlexusTensorError } from '../../errors.js';

/** Tiling limits the WebGPU kernels plan their dispatches and bindings against. */
export interface WebGpuKernelLimits {
  /** Most workgroups in one dimension of one dispatch (WebGPU's default: 65535). */
  readonly maxWorkgroupsPerDimension: number;
  /** Most bytes one storage-buffer binding may cover (WebGPU's default: 128 MiB; 2 GiB or more on real GPUs). */
  readonly maxBindingBytes: number;
}

let overrides: Partial<WebGpuKernelLimits> = {};

/**
 * Override the limits the WebGPU kernels tile against (each capped by the
 * device's own). Tests set tiny values to force the tiled paths with small
 * shapes; call with `{}` to go back to the device's limits.
 */
export function setWebGpuKernelLimits(limits: Partial<WebGpuKernelLimits>): void {
  const { maxWorkgroupsPerDimension: w, maxBindingBytes: b } = limits;
  if (w !== undefined && !(Number.isInteger(w) && w >= 1)) {
    throw new PlexusTensorError(
      'webgpu',
      `maxWorkgroupsPerDimension must be an integer >= 1, got ${w}`,
    );
  }
  // 16 bytes: one vec4, the smallest element any kernel binds.
  if (b !== undefined && !(Number.isInteger(b) && b >= 16)) {
    throw new PlexusTensorError('webgpu', `maxBindingBytes must be an integer >= 16, got ${b}`);
  }
  overrides = { ...limits };
}

/** The limits in force on `device`: the device's limits, lowered by any override. */
export function webGpuKernelLimits(device: GPUDevice): WebGpuKernelLimits {
  const d = device.limits;
  // A binding must also fit in one buffer.
  const deviceBinding = Math.min(d.maxStorageBufferBindingSize, d.maxBufferSize);
  return {
    maxWorkgroupsPerDimension: Math.min(
      d.maxComputeWorkgroupsPerDimension,
      overrides.maxWorkgroupsPerDimension ?? Number.POSITIVE_INFINITY,
    ),
    maxBindingBytes: Math.min(deviceBinding, overrides.maxBindingBytes ?? Number.POSITIVE_INFINITY),
  };
}
