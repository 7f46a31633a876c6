import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAttention } from './attention.js';
import { compressionAccuracy } from './compression.js';
import { memoryWaste } from './memory.js';
import { blockManagerOps } from './ops.js';
import { prefixHitRates } from './prefix.js';

// `pnpm bench`: memory waste, block-manager throughput, prefix-hit rate and
// paged-vs-dense decode attention, eviction-policy accuracy; writes bench/results/kv-cache.json.
const memory = [8, 16, 32].map((blockSize) =>
  memoryWaste({
    numRequests: 1000,
    seed: 1,
    capacityTokens: 65_536,
    blockSize: blockSize as 8 | 16 | 32,
    maxModelLength: 2048,
  }),
);
const memoryRows = [memory[0]!.rows[1]!, ...memory.map((m) => m.rows[0]!)];
console.table(memoryRows);
const ops = blockManagerOps(20_000, 2);
console.table(ops);
const prefix = prefixHitRates(3);
console.table(prefix);
const compression = compressionAccuracy(512, [32, 64, 128, 256], 16, 5);
console.table(compression);
const attention = await decodeAttention(['cpu', 'wasm'], undefined, 9);
console.table(attention);

const result = {
  benchmark: '@plexus/kv-cache',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  memory: {
    workload: { ...memory[0]!.workload, requests: 1000, seed: 1, capacityTokens: 65_536 },
    rows: memoryRows,
    targetWastePercent: 4,
  },
  ops,
  prefix,
  attention: { rows: attention, targetRatio: 1.3 },
  compression: { length: 512, trials: 16, rows: compression },
};
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'kv-cache.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join(dir, 'kv-cache.json')}`);
