// Shared vitest defaults: tests live beside the code (`*.test.ts`), run in
// forked workers (tfjs backends keep global state, so threads would share it),
// and get generous timeouts because CI has two slow cores and WebGPU tests run
// on a software rasteriser.
import { defineConfig, mergeConfig } from 'vitest/config';

/** Base vitest config every package extends. */
export const baseConfig = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

/** Merge package-specific settings over the shared base. */
export function plexusVitestConfig(overrides = {}) {
  return mergeConfig(baseConfig, defineConfig(overrides));
}
