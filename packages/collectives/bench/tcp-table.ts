// Prints the README's markdown table of a TCP all-reduce benchmark result:
//   tsx bench/tcp-table.ts [bench/results/allreduce-tcp.json] [minBytes]
// so the figures in the README come from the JSON, not from a hand.
import { readFileSync } from 'node:fs';

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
  gloo?: Side;
  busbwRatio?: number;
  medianBusbwRatio?: number;
  slowestRankBusbwRatio?: number;
  busbwRatioWithoutChecksum?: number;
  roundRatios?: number[];
}

const file = process.argv[2] ?? new URL('./results/allreduce-tcp.json', import.meta.url).pathname;
const minBytes = Number(process.argv[3] ?? 0);
const { results } = JSON.parse(readFileSync(file, 'utf8')) as { results: Row[] };
const size = (b: number) => (b >= 1 << 20 ? `${b / (1 << 20)} MiB` : `${b / 1024} KiB`);
const num = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en-US'));
console.log(
  "| n | size | plexus time (µs) | plexus busbw (GB/s) | without CRC32 (GB/s) | Node's sockets (GB/s) | Gloo time (µs) | Gloo busbw (GB/s) | plexus / Gloo, pooled mean (median) | per round | slowest rank per iteration | without CRC32 / Gloo |",
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
for (const r of results) {
  if (r.bytes < minBytes) continue;
  console.log(
    `| ${r.worldSize} | ${size(r.bytes)} | ${num(r.plexus.timeUs)} | ${r.plexus.busbwGBs} | ${num(r.plexusWithoutChecksum?.busbwGBs)} | ${num(r.plexusOnNodeSockets?.busbwGBs)} | ${num(r.gloo?.timeUs)} | ${num(r.gloo?.busbwGBs)} | **${num(r.busbwRatio)}** (${num(r.medianBusbwRatio)}) | ${(r.roundRatios ?? []).join(', ')} | ${num(r.slowestRankBusbwRatio)} | ${num(r.busbwRatioWithoutChecksum)} |`,
  );
}
