#!/usr/bin/env node
// Compiles native/plexus_shm.cc (the zero-copy shared-memory addon) into
// native/build/plexus_shm-<platform>-<arch>.node with g++ against Node's
// N-API headers; no node-gyp and no download. Run by `pnpm build` after tsup.
//
// Missing pieces (not Linux, no C++ compiler, no node_api.h) are not an
// error: it prints why and exits 0, and the shared-memory transport then
// falls back to its pwrite/pread path at run time (`transport.zeroCopy` is
// false). A compile error of the source itself exits 1.
//
//   node scripts/build-native.mjs [--if-stale] [--quiet]
//   CXX=clang++ NODE_INCLUDE=/path/to/include/node node scripts/build-native.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const source = join(pkg, 'native', 'plexus_shm.cc');
// Outside dist/: tsup cleans dist/ on every build, and this package's tests
// (which turbo may run beside a build) must never find the addon gone.
const outDir = join(pkg, 'native', 'build');
const out = join(outDir, `plexus_shm-${process.platform}-${process.arch}.node`);
const quiet = process.argv.includes('--quiet');
const log = (msg) => {
  if (!quiet) console.log(`build-native: ${msg}`);
};
const skip = (why) => {
  console.log(
    `build-native: skipped (${why}); the shared-memory transport will copy with pwrite/pread instead of mapping`,
  );
  process.exit(0);
};

if (process.argv.includes('--if-stale') && existsSync(out)) {
  // The addon includes every header in native/, so any of them makes it stale.
  const inputs = readdirSync(join(pkg, 'native'))
    .filter((f) => /\.(cc|h)$/.test(f))
    .map((f) => statSync(join(pkg, 'native', f)).mtimeMs);
  if (statSync(out).mtimeMs >= Math.max(...inputs)) {
    log(`${out} is up to date`);
    process.exit(0);
  }
}
if (process.platform !== 'linux')
  skip(`platform ${process.platform}: the addon uses Linux futexes`);

const cxx = process.env.CXX || 'g++';
const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) skip(`no C++ compiler: \`${cxx} --version\` failed`);

const includeCandidates = [
  process.env.NODE_INCLUDE,
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].filter((d) => d !== undefined && d !== '');
const include = includeCandidates.find((d) => existsSync(join(d, 'node_api.h')));
if (include === undefined) {
  skip(`node_api.h not found in ${includeCandidates.join(', ')} (set NODE_INCLUDE)`);
}

mkdirSync(outDir, { recursive: true });
// Parallel builds (tests beside `pnpm build`) must never load a half-written file.
const tmp = `${out}.${process.pid}.tmp`;
const args = [
  '-std=c++17',
  '-O3',
  ...(process.arch === 'x64' ? ['-march=x86-64-v2'] : []),
  '-shared',
  '-fPIC',
  '-pthread',
  '-fvisibility=hidden',
  '-static-libstdc++',
  '-static-libgcc',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-DNODE_GYP_MODULE_NAME=plexus_shm',
  `-I${include}`,
  source,
  '-o',
  tmp,
];
const started = performance.now();
const r = spawnSync(cxx, args, { encoding: 'utf8' });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  console.error(`build-native: ${cxx} ${args.join(' ')}\n${r.stderr}`);
  process.exit(1);
}
if (r.stderr.trim() !== '') console.error(r.stderr);
renameSync(tmp, out);
log(`${out} (${Math.round(performance.now() - started)} ms, headers from ${include})`);
