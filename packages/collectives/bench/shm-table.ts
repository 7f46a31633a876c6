// Prints the README's markdown table of a shared-memory all-reduce benchmark
// result (bench/allreduce-shm.ts), so its figures come from the JSON:
//   tsx bench/shm-table.ts [bench/results/allreduce-shm.json] [minBytes]
// busbw (GB/s, median) per size, then at 64 MiB busbw / single-thread memcpy
// (the issue's target for the zero-copy path, in bold) and busbw / Gloo's.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Entry {
  what: string;
  worldSize: number;
  bytes: number;
  algbwGBps: number;
  busbwGBps: number | null;
  busbwOverMemcpy: number | null;
  busbwOverGloo: number | null;
}

const file =
  process.argv[2] ?? fileURLToPath(new URL('./results/allreduce-shm.json', import.meta.url));
const minBytes = Number(process.argv[3] ?? 0);
const { table } = JSON.parse(readFileSync(file, 'utf8')) as { table: Entry[] };
const MIB = 1 << 20;
const size = (b: number) => (b >= MIB ? `${b / MIB} MiB` : `${b / 1024} KiB`);
const sizes = [...new Set(table.map((t) => t.bytes))]
  .filter((b) => b >= minBytes)
  .sort((a, b) => a - b);
const at64 = (rows: Entry[]) => rows.find((r) => r.bytes === 64 * MIB);
const cell = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));

console.log(
  `| what | n | ${sizes.map((b) => `${size(b)} busbw`).join(' | ')} | 64 MiB busbw / memcpy | 64 MiB busbw / Gloo's |`,
);
console.log(`| --- | ---: | ${sizes.map(() => '---:').join(' | ')} | ---: | ---: |`);
const memcpy = table.filter((t) => t.worldSize === 1);
console.log(
  `| memcpy (one thread, algbw) | 1 | ${sizes.map((b) => cell(memcpy.find((m) => m.bytes === b)?.algbwGBps)).join(' | ')} | 1 | – |`,
);
const groups = [
  ...new Set(
    table.filter((t) => t.what.startsWith('allReduce')).map((t) => `${t.worldSize}|${t.what}`),
  ),
].sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b));
for (const key of groups) {
  const [n, what] = key.split('|') as [string, string];
  const rows = table.filter((t) => t.what === what && t.worldSize === Number(n));
  const m = at64(rows);
  const name = what.replace('allReduce over ', '');
  console.log(
    `| ${name} | ${n} | ${sizes.map((b) => cell(rows.find((r) => r.bytes === b)?.busbwGBps)).join(' | ')} | ${name === 'shm-zero-copy' || name === 'shm-shared' ? `**${cell(m?.busbwOverMemcpy)}**` : cell(m?.busbwOverMemcpy)} | ${cell(m?.busbwOverGloo)} |`,
  );
}
