import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // tfjs and the optional native/GPU packages stay external: users install them.
  external: [/^@tensorflow\//, 'webgpu', 'vitest'],
});
