import { defineConfig } from 'tsup';

export default defineConfig({
  // `plexus-run` (the launcher, with its shebang) is a separate entry, outside the library API.
  entry: { index: 'src/index.ts', 'plexus-run': 'src/launcher/cli.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: [/^@plexus\//, '@redis/client'],
  // A working import.meta.url in the CJS build: the shm addon is found relative to the bundle.
  shims: true,
});
