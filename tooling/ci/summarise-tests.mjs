// Reads a turbo/vitest log on stdin and prints one closing line with the
// totals over every package: "tests: N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const log = readFileSync(0, 'utf8').replace(
  new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
  '',
);
let passed = 0;
let failed = 0;
let skipped = 0;
let suites = 0;
for (const line of log.split('\n')) {
  const m = line.match(/\bTests\s+(.*)\((\d+)\)\s*$/);
  if (!m) continue;
  suites++;
  for (const part of m[1].split('|')) {
    const [, n, what] = part.trim().match(/^(\d+) (passed|failed|skipped|todo)/) ?? [];
    if (what === 'passed') passed += Number(n);
    if (what === 'failed') failed += Number(n);
    if (what === 'skipped' || what === 'todo') skipped += Number(n);
  }
}
console.log(`vitest summaries read: ${suites}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(suites === 0 ? 1 : 0);
