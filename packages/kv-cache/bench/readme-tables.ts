import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `node --import tsx bench/readme-tables.ts`: refresh the measured tables in
// README.md (between `<!-- name -->` markers) from bench/results/kv-cache.json.
type Row = Record<string, number | string>;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = JSON.parse(readFileSync(join(root, 'bench/results/kv-cache.json'), 'utf8'));
const n = (x: unknown, digits = 1): string =>
  (x as number).toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
const table = (head: string[], rows: Row[], cells: (x: Row) => string[]): string =>
  [
    `| ${head.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(head.length - 1)}`,
    ...rows.map((x) => `| ${cells(x).join(' | ')} |`),
  ].join('\n');
const tables: Record<string, string> = {
  memory: table(
    ['allocator', 'waste %', 'pool use %', 'mean concurrent sequences', 'steps', 'preemptions'],
    r.memory.rows,
    (x) => [
      String(x.allocator),
      n(x.wastePercent, 2),
      n(x.poolUsePercent),
      n(x.meanConcurrency),
      n(x.steps, 0),
      String(x.preemptions),
    ],
  ),
  ops: table(['operation', 'count', 'ops/s'], r.ops, (x) => [
    String(x.op),
    n(x.count, 0),
    n(x.opsPerSecond, 0),
  ]),
  prefix: table(['index', 'hit rate %', 'ideal %', 'evicted'], r.prefix, (x) => [
    String(x.index),
    n(x.hitRatePercent),
    n(x.idealPercent),
    `${n(x.evicted, 0)} ${x.evictedUnit}`,
  ]),
  attention: table(
    [
      'backend',
      'paged ms',
      'dense host ms',
      'dense tfjs ms',
      'paged / dense host',
      'paged / dense tfjs',
    ],
    r.attention.rows,
    (x) => [
      String(x.backend),
      n(x.pagedMs),
      n(x.denseHostMs),
      n(x.denseTfjsMs),
      n(x.pagedOverDenseHost, 2),
      n(x.pagedOverDenseTfjs, 3),
    ],
  ),
  compression: table(
    ['policy', 'budget', 'needle top-1', 'output rel. error'],
    r.compression.rows,
    (x) => [String(x.policy), String(x.budget), n(x.needleTop1, 2), n(x.outputRelError, 3)],
  ),
};
const path = join(root, 'README.md');
let readme = readFileSync(path, 'utf8');
for (const [name, body] of Object.entries(tables))
  readme = readme.replace(
    new RegExp(`<!-- ${name} -->\\n[\\s\\S]*?<!-- /${name} -->`),
    `<!-- ${name} -->\n${body}\n<!-- /${name} -->`,
  );
writeFileSync(path, readme);
