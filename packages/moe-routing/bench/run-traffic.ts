import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expertParallelTrafficBench } from './expert-parallel-traffic.js';

// `pnpm bench:traffic`: the expert-parallel all-to-all traffic table alone (byte
// counts, deterministic); writes bench/results/expert-parallel-traffic.json.
const rows = await expertParallelTrafficBench();
console.table(rows);
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'expert-parallel-traffic.json'),
  `${JSON.stringify(
    {
      benchmark: 'expert-parallel all-to-all traffic',
      date: new Date().toISOString(),
      config:
        '4 simulated ranks on 2 hosts (@plexus/collectives in-memory transport), 8 experts top-2, D=512, 256 tokens per rank, one forward pass; bytes include the one expert-id column per dispatched row',
      rows,
    },
    null,
    2,
  )}\n`,
);
