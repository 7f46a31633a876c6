import { describe, expect, it } from 'vitest';
import { adapterReport } from './adapter-report.js';

describe('adapterReport', () => {
  it('names a GPU adapter by a file-safe slug and labels its timings as GPU ones', () => {
    const r = adapterReport({ device: 'NVIDIA H100 80GB HBM3 (vulkan)', isGpu: true });
    expect(r).toEqual({
      adapter: 'NVIDIA H100 80GB HBM3 (vulkan)',
      isGpu: true,
      label: 'GPU timings',
      slug: 'nvidia-h100-80gb-hbm3-vulkan',
    });
  });

  it('says a software adapter gives no GPU numbers, and caps the slug at 48 characters', () => {
    const r = adapterReport({
      device: `llvmpipe (LLVM 19.1.7, 256 bits) ${'x'.repeat(60)}`,
      isGpu: false,
    });
    expect(r.label).toContain('NOT GPU numbers');
    expect(r.slug.length).toBeLessThanOrEqual(48);
    expect(r.slug).toMatch(/^llvmpipe-llvm-19-1-7-256-bits-x+$/);
  });

  it('falls back to "unknown" for a name with no letters or digits', () => {
    expect(adapterReport({ device: '()', isGpu: false }).slug).toBe('unknown');
  });
});
