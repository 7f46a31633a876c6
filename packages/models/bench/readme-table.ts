// Rewrites the <!-- train --> block of README.md from
// bench/results/train-tokens-per-second.json. Run after bench/train.ts:
// node --import tsx bench/readme-table.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
interface T {
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
}
interface Row {
  preset: string;
  params: number;
  plexus: { wasm: T; cpu: T };
  torch: {
    oneThread: { tokensPerSecond: number; tokensPerCpuSecond: number };
    allThreads: { threads: number; tokensPerSecond: number };
  };
  ratio: Record<string, number>;
}
const r = JSON.parse(
  readFileSync(join(HERE, 'results', 'train-tokens-per-second.json'), 'utf8'),
) as {
  date: string;
  cpu: string;
  loadAverageBefore: number;
  loadAverageAfter: number;
  cpuPressure: string | null;
  rows: Row[];
};
const f = (x: number) => Math.round(x).toLocaleString('en-US');
const lines = [
  `Measured ${r.date.slice(0, 10)} on ${r.cpu}, shared with other jobs (load average ${r.loadAverageBefore.toFixed(1)} → ${r.loadAverageAfter.toFixed(1)}${r.cpuPressure ? `; CPU pressure \`${r.cpuPressure}\`` : ''}). Wall tokens/s includes waiting for a core; tokens per CPU-second (user + system time of the process) is the fairer single-thread comparison here.`,
  '',
  '| preset | params | wasm tok/s | cpu tok/s | PyTorch 1 thread tok/s | PyTorch all threads tok/s | wasm / PyTorch 1 thread | wasm tok per CPU-s | PyTorch tok per CPU-s | wasm / PyTorch per CPU-s |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...r.rows.map(
    (x) =>
      `| ${x.preset} | ${f(x.params)} | ${f(x.plexus.wasm.tokensPerSecond)} | ${f(x.plexus.cpu.tokensPerSecond)} | ${f(x.torch.oneThread.tokensPerSecond)} | ${f(x.torch.allThreads.tokensPerSecond)} (${x.torch.allThreads.threads}) | ${x.ratio.wasmVsTorch1Thread!.toFixed(2)} | ${f(x.plexus.wasm.tokensPerCpuSecond)} | ${f(x.torch.oneThread.tokensPerCpuSecond)} | ${x.ratio.wasmVsTorch1ThreadCpuTime!.toFixed(2)} |`,
  ),
];
const readme = join(HERE, '..', 'README.md');
const text = readFileSync(readme, 'utf8');
const block = /<!-- train -->[\s\S]*<!-- \/train -->/;
if (!block.test(text)) throw new Error('README.md has no <!-- train --> block');
writeFileSync(readme, text.replace(block, `<!-- train -->\n${lines.join('\n')}\n<!-- /train -->`));
console.log(lines.join('\n'));
