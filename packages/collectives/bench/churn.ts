// Long churn run in the manner of PCCL's stress test ("Prime Collective
// Communications Library — Technical Report", 2025): fixture peers are
// started and killed -9 at random every 0.5-2 s (seeded) while the
// survivors synchronise their shared state and all-reduce; the same checks
// as the CI churn test (test/fault-tolerance-churn.test.ts), for longer.
// Writes bench/results/churn.json; exits 1 when a check failed.
//   npx tsx bench/churn.ts [--duration-ms 300000] [--seed 1] [--max-peers 5]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runChurn } from '../test/fixtures/ft-churn.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bench/churn: expected --${name} > 0`);
  return v;
}

const durationMs = arg('duration-ms', 300_000);
const seed = arg('seed', 1);
const maxPeers = arg('max-peers', 5);
const loadBefore = loadavg();
const report = await runChurn({
  durationMs,
  seed,
  maxPeers,
  log: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
});
const result = {
  benchmark: 'churn',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadavgBefore: loadBefore,
  loadavgAfter: loadavg(),
  settings: { durationMs, seed, maxPeers, gapMs: [500, 2_000], stallLimitMs: 30_000 },
  report,
  allReducesPerSecond: report.allReduces / (report.durationMs / 1000),
};
writeFileSync(
  new URL('./results/churn.json', import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(JSON.stringify(result, null, 2));
if (report.failures.length > 0) process.exit(1);
