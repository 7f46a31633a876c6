// Measures one library's index memory in a fresh process: resident set size
// after building minus before, with the input data allocated (and kept
// alive) before the first reading. Run by bench/run.ts as
//   node --import tsx bench/memory-child.ts <ours|hnswlib> <vectors.f32> <json params>
// and prints {"rssBytes": ...}. A separate process per library keeps the
// other library's heap and the benchmark's garbage out of the number; the
// vectors come from a file so that generating them leaves no garbage behind.

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HnswIndex } from '../src/index.js';
import { loadHnswlib } from './hnswlib-peer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** RSS after the heap has settled: V8 returns freed pages to the OS lazily. */
const rss = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return process.memoryUsage().rss;
};

const [lib, file, paramsText] = process.argv.slice(2);
const spec = JSON.parse(paramsText ?? '{}') as {
  n: number;
  dim: number;
  M: number;
  efConstruction: number;
};
const bytes = readFileSync(file ?? '');
const base = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const dim = spec.dim;
const labels = Array.from({ length: spec.n }, (_, i) => i);
let rssBytes: number;
if (lib === 'hnswlib') {
  const peer = loadHnswlib();
  if (!peer.ok) throw new Error(peer.reason);
  const rows = labels.map((i) => Array.from(base.subarray(i * dim, (i + 1) * dim)));
  const before = await rss();
  const h = peer.create(dim);
  h.initIndex(spec.n, spec.M, spec.efConstruction, 100);
  for (let i = 0; i < spec.n; i++) h.addPoint(rows[i]!, i);
  rssBytes = (await rss()) - before;
  h.setEf(10); // keep `h` and `rows` alive past the reading
  if (rows.length !== spec.n) throw new Error('unreachable');
} else {
  const before = await rss();
  const index = new HnswIndex({
    dim,
    M: spec.M,
    efConstruction: spec.efConstruction,
    capacity: spec.n,
  });
  index.addBatch(labels, base);
  rssBytes = (await rss()) - before;
  if (index.size !== spec.n) throw new Error('unreachable');
}
console.log(JSON.stringify({ rssBytes }));
