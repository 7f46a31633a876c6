import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { PlexusTensorError } from '../errors.js';
import { initBackend } from './init-backend.js';

describe('initBackend', () => {
  afterEach(() => {
    delete process.env['PLEXUS_BACKEND'];
  });

  it('auto picks the first backend that runs and explains every rejection', async () => {
    const choice = await initBackend({ allowSoftwareAdapter: false });
    // This machine has no tfjs-node and no hardware GPU: wasm must win.
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.isGpu).toBe(false);
    expect(choice.device).toMatch(/WebAssembly \((SIMD|no SIMD)/);
    const rejected = choice.attempts.filter((a) => !a.ok).map((a) => a.backend);
    expect(rejected).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    expect(choice.attempts[0]!.reason).toBe('package is not installed');
    expect(choice.attempts[1]!.reason).toMatch(/software adapter|no WebGPU adapter|Cannot|webgpu/i);
    expect(choice.attempts.at(-1)).toMatchObject({ backend: 'wasm', ok: true });
  });

  it('honours PLEXUS_BACKEND', async () => {
    process.env['PLEXUS_BACKEND'] = 'cpu';
    const choice = await initBackend();
    expect(choice.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.attempts).toHaveLength(1);
  });

  it('rejects an unknown backend name, listing the accepted ones', async () => {
    await expect(initBackend({ backend: 'cuda' as never })).rejects.toThrow(
      /options.backend is 'cuda'; accepted: auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/,
    );
    process.env['PLEXUS_BACKEND'] = 'gpu';
    await expect(initBackend()).rejects.toThrow(/PLEXUS_BACKEND is 'gpu'/);
  });

  it('fails with what was tried and why when the named backend cannot run', async () => {
    const error = await initBackend({ backend: 'tfjs-node' }).catch((e: unknown) => e);
    expect(PlexusTensorError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /no requested backend could run \(tried tfjs-node: package is not installed\)/,
    );
  });
});
