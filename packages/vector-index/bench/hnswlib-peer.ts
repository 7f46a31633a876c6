// Loads hnswlib-node (the authors' C++ HNSW, built with node-gyp) if it can;
// the benchmark runs without it and says why.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The part of hnswlib-node's HierarchicalNSW the benchmark uses. */
export interface HnswlibIndex {
  initIndex(maxElements: number, m: number, efConstruction: number, randomSeed: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}

/** A constructor for hnswlib indexes, or the reason it could not be loaded. */
export function loadHnswlib():
  | { ok: true; create: (dim: number) => HnswlibIndex }
  | { ok: false; reason: string } {
  const require = createRequire(import.meta.url);
  try {
    require('hnswlib-node');
  } catch {
    buildHnswlib(require);
  }
  try {
    const mod = require('hnswlib-node') as {
      HierarchicalNSW: new (space: string, dim: number) => HnswlibIndex;
    };
    return { ok: true, create: (dim) => new mod.HierarchicalNSW('l2', dim) };
  } catch (error) {
    return {
      ok: false,
      reason: error instanceof Error ? error.message.split('\n')[0]! : String(error),
    };
  }
}

/**
 * pnpm does not run dependencies' build scripts unless the workspace allows
 * them, and allowing hnswlib-node would make every install (CI's too) compile
 * C++; so the benchmark builds it on first use instead, with the node-gyp that
 * ships inside npm, against the headers npm is configured with (nodedir).
 */
function buildHnswlib(require: NodeJS.Require): void {
  try {
    const pkgDir = dirname(require.resolve('hnswlib-node/package.json'));
    const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
    const nodeGyp = join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (!existsSync(nodeGyp)) return;
    const nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim();
    const args = [nodeGyp, 'rebuild'];
    if (nodedir !== '' && nodedir !== 'undefined') args.push(`--nodedir=${nodedir}`);
    process.stderr.write('building hnswlib-node with node-gyp (first run only)...\n');
    execFileSync(process.execPath, args, { cwd: pkgDir, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // The caller reports why loading failed.
  }
}

/**
 * hnswlib's own allocation for an L2 index of `n` float vectors, from
 * hnswalg.h: level-0 block per element (links, data, label), a link-list
 * pointer, an int level and a std::mutex per element, the label hash map
 * (~40 B per entry), 65536 label-operation mutexes and the upper-level
 * blocks (about n / (M - 1) of them at (M + 1) * 4 bytes).
 */
export function hnswlibModelBytes(n: number, dim: number, m: number): number {
  const m0 = 2 * m;
  const level0 = 4 + m0 * 4 + dim * 4 + 8;
  const perElement = level0 + 8 + 4 + 40 + 40 + 2;
  const upper = (n / (m - 1)) * (m + 1) * 4;
  return n * perElement + 65536 * 40 + upper;
}
