import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expertParallelTrafficBench } from './expert-parallel-traffic.js';
import { ffnBench } from './ffn.js';
import { offloadBench } from './offload.js';

// `pnpm bench`: forward+backward tokens/s of an 8-expert top-2 MoE FFN against
// a dense FFN with the same active parameters, same run, on cpu and wasm, and
// expert-offloading cache hit rates / SRP / SCH on synthetic routing traces;
// writes bench/results/moe-routing.json. `--offload-only` skips the FFN timing.
const offloadOnly = process.argv.includes('--offload-only');
const rows = offloadOnly ? [] : await ffnBench(['cpu', 'wasm'], ['dropless', 'capacity']);
if (rows.length > 0) console.table(rows.map(({ config: _c, ...r }) => r));
const offload = await offloadBench();
console.table(offload);
const traffic = offloadOnly ? [] : await expertParallelTrafficBench();
if (traffic.length > 0) console.table(traffic);
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
const file = join(dir, offloadOnly ? 'offload.json' : 'moe-routing.json');
const result = {
  benchmark: '@plexus/moe-routing',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  ...(rows.length > 0
    ? {
        ffn: { config: rows[0]?.config, rows, targetMoeOverDense: 1.5, targetDispatch: 'dropless' },
      }
    : {}),
  ...(traffic.length > 0
    ? {
        expertParallelTraffic: {
          config:
            '4 simulated ranks on 2 hosts (in-memory transport), 8 experts top-2, D=512, 256 tokens per rank, one forward pass; bytes include the one expert-id column per dispatched row',
          rows: traffic,
        },
      }
    : {}),
  offload: {
    config:
      '4096 tokens, D=32, 8-expert top-2 router over AR(1) token sequences; cache hit rates (cold start), SRP and SCH at m=8',
    rows: offload,
  },
};
mkdirSync(dir, { recursive: true });
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${file}`);
