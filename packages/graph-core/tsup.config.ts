import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url locates the bundled data/ folder; shims provide it in the CJS build.
  shims: true,
  // Dependencies stay external: users install them, and @plexus/tensor must be
  // the single copy that owns the tfjs backend.
  external: [/^@plexus\//, /^@tensorflow\//, /^graphology/],
});
