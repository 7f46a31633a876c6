import * as tf from '@tensorflow/tfjs-core';
import type { LoadedBackend } from './types.js';

/** Names of software rasterisers' adapters, which must not win automatically. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** A readable name of a WebGPU adapter and whether it is a software one. */
export function describeAdapter(adapter: GPUAdapter): { name: string; software: boolean } {
  const info = (adapter as unknown as { info?: AdapterInfoLike }).info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  const name = parts.length > 0 ? [...new Set(parts)].join(' ') : 'unknown adapter';
  const fallback =
    (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { name, software: fallback || SOFTWARE_ADAPTER.test(name) };
}

/**
 * Bring up tfjs' WebGPU backend on Dawn (the `webgpu` npm package) in Node,
 * or on the browser's `navigator.gpu`. The backend module registers itself
 * only if `navigator.gpu` exists when it is evaluated, so Dawn is installed
 * as `navigator.gpu` first; the chosen adapter is then handed to tfjs.
 */
export async function loadWebGpu(allowSoftware: boolean): Promise<LoadedBackend> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  let gpu = g.navigator?.gpu;
  if (gpu === undefined) {
    const dawn = (await import('webgpu')) as unknown as {
      create(flags: string[]): GPU;
      globals: object;
    };
    Object.assign(globalThis, dawn.globals);
    gpu = dawn.create([]);
    if (g.navigator === undefined) {
      Object.defineProperty(globalThis, 'navigator', {
        value: { gpu },
        configurable: true,
        writable: true,
      });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) throw new Error('no WebGPU adapter was found');
  const { name, software } = describeAdapter(adapter);
  if (software && !allowSoftware) {
    throw new Error(
      `only a software adapter is available (${name}); pass allowSoftwareAdapter to use it`,
    );
  }
  const webgpu = await import('@tensorflow/tfjs-backend-webgpu');
  const limits = adapter.limits;
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new webgpu.WebGPUBackend(device);
  });
  if (!(await tf.setBackend('webgpu')))
    throw new Error('tfjs could not initialise its webgpu backend');
  return {
    tfjsBackend: 'webgpu',
    device: software ? `${name} (software)` : name,
    isGpu: !software,
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      software,
    },
  };
}
