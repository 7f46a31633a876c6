// Prints the README's markdown tables of TCP all-reduce benchmark results,
// so the figures in the README come from the JSON, not from a hand:
//   tsx bench/tcp-table.ts [bench/results/allreduce-tcp.json] [minBytes]
//     one run, every column;
//   tsx bench/tcp-table.ts --ratios minBytes a.json b.json ...
//     plexus / Gloo busbw (pooled mean) of several runs, a row per run and world size.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Side {
  timeUs: number;
  busbwGBs: number;
}
interface Row {
  worldSize: number;
  bytes: number;
  plexus: Side;
  plexusWithoutChecksum?: Side;
  plexusOnNodeSockets?: Side;
  /** A string where Gloo failed in that run (its reason). */
  gloo?: Side | string;
  busbwRatio?: number;
  medianBusbwRatio?: number;
  slowestRankBusbwRatio?: number;
  busbwRatioWithoutChecksum?: number;
  roundRatios?: number[];
}
interface Run {
  date: string;
  rounds: number;
  results: Row[];
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Run;
const size = (b: number) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
const num = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en-US'));

function oneRun(file: string, minBytes: number): void {
  const { results } = read(file);
  console.log(
    "| n | size | plexus time (µs) | plexus busbw (GB/s) | without CRC32 (GB/s) | Node's sockets (GB/s) | Gloo time (µs) | Gloo busbw (GB/s) | plexus / Gloo, pooled mean (median) | per round | slowest rank per iteration | without CRC32 / Gloo |",
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
  for (const r of results) {
    if (r.bytes < minBytes) continue;
    console.log(
      `| ${r.worldSize} | ${size(r.bytes)} | ${num(r.plexus.timeUs)} | ${r.plexus.busbwGBs} | ${num(r.plexusWithoutChecksum?.busbwGBs)} | ${num(r.plexusOnNodeSockets?.busbwGBs)} | ${typeof r.gloo === 'object' ? num(r.gloo.timeUs) : '–'} | ${typeof r.gloo === 'object' ? num(r.gloo.busbwGBs) : '–'} | **${num(r.busbwRatio)}** (${num(r.medianBusbwRatio)}) | ${(r.roundRatios ?? []).join(', ')} | ${num(r.slowestRankBusbwRatio)} | ${num(r.busbwRatioWithoutChecksum)} |`,
    );
  }
}

function ratios(files: string[], minBytes: number): void {
  const runs = files.map((f) => ({ file: basename(f), ...read(f) }));
  const sizes = [...new Set(runs.flatMap((r) => r.results.map((x) => x.bytes)))]
    .filter((b) => b >= minBytes)
    .sort((a, b) => a - b);
  console.log(`| run (UTC) | rounds | n | ${sizes.map(size).join(' | ')} |`);
  console.log(`| --- | ---: | ---: | ${sizes.map(() => '---:').join(' | ')} |`);
  for (const n of [...new Set(runs.flatMap((r) => r.results.map((x) => x.worldSize)))].sort(
    (a, b) => a - b,
  )) {
    for (const run of runs) {
      const rows = run.results.filter((x) => x.worldSize === n);
      if (rows.length === 0) continue;
      const cells = sizes.map((b) => {
        const ratio = rows.find((x) => x.bytes === b)?.busbwRatio;
        return ratio === undefined ? '–' : ratio < 1 ? `**${ratio}**` : String(ratio);
      });
      console.log(
        `| \`${run.file}\` (${run.date.slice(11, 16)}) | ${run.rounds} | ${n} | ${cells.join(' | ')} |`,
      );
    }
  }
}

const args = process.argv.slice(2);
if (args[0] === '--ratios') ratios(args.slice(2), Number(args[1] ?? 0));
else
  oneRun(
    args[0] ?? fileURLToPath(new URL('./results/allreduce-tcp.json', import.meta.url)),
    Number(args[1] ?? 0),
  );
