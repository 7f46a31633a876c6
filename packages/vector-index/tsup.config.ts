import { defineConfig } from 'tsup';

export default defineConfig({
  // The build worker is its own entry: parallel builds start it by URL
  // relative to the bundle (dist/build-worker.js / .cjs).
  entry: { index: 'src/index.ts', 'build-worker': 'src/parallel/build-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Gives CJS output a working import.meta.url for the worker URL.
  shims: true,
});
