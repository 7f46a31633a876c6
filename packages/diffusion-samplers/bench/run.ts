// `pnpm bench`: error against NFE on the exact oracle, orders of convergence,
// and per-step sampler overhead. Writes JSON and SVG under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { cacheErrors } from './cache.js';
import { convergenceOrders, errorVsNfe } from './oracle-error.js';
import { referenceOpMs, samplerOverhead } from './overhead.js';
import { logLogSvg } from './svg.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'results');
mkdirSync(out, { recursive: true });

const backend = process.env['PLEXUS_BACKEND'] ?? 'wasm';
await initBackend({ backend: backend as 'wasm' });
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  backend: tf.getBackend(),
  cpus: (await import('node:os')).cpus().length,
};
console.log('backend', meta);

const budgets = [5, 10, 20, 50, 100];
const errors = await errorVsNfe(budgets);
console.log('\nmean L2 to the reference end points (sigma = 0)');
for (const g of ['trailing', 'karras'])
  for (const name of [...new Set(errors.map((r) => r.sampler))]) {
    const rs = errors.filter((r) => r.grid === g && r.sampler === name);
    console.log(
      `${(name + ' / ' + g).padEnd(32)} ${rs.map((r) => r.meanL2.toExponential(2)).join('  ')}`,
    );
  }

const orders = await convergenceOrders([40, 80, 160, 320]);
console.log('\nfitted orders (Karras grid to sigma_min, NFE 40..320)');
for (const o of orders) console.log(`${o.sampler.padEnd(22)} ${o.order.toFixed(2)}`);

writeFileSync(
  join(out, 'oracle-error.json'),
  `${JSON.stringify({ meta, budgets, errors, orders }, null, 2)}\n`,
);
const panels = (['trailing', 'karras'] as const).map((g) => ({
  title: `GMM oracle, ${g} grid, to sigma = 0`,
  series: [...new Set(errors.map((r) => r.sampler))].map((name) => ({
    name,
    points: errors
      .filter((r) => r.grid === g && r.sampler === name)
      .map((r) => [r.nfe, r.meanL2] as [number, number]),
  })),
}));
panels.push({
  title: 'Karras grid to sigma_min (orders)',
  series: orders.map((o) => ({
    name: o.sampler,
    points: o.nfe.map((n, i) => [n, o.meanL2[i]!] as [number, number]),
  })),
});
writeFileSync(join(out, 'error-vs-nfe.svg'), logLogSvg(panels, 'NFE', 'mean L2 error'));

const cache = await cacheErrors();
console.log('\ncache error vs uncached DPM++ 2M (20 calls, trailing)');
for (const r of cache)
  console.log(
    `budget ${String(r.budget).padStart(2)} ${r.schedule.padEnd(7)} order ${r.order}  ${r.errorVsUncached.toExponential(2)}`,
  );
writeFileSync(join(out, 'cache.json'), `${JSON.stringify({ meta, rows: cache }, null, 2)}\n`);

const refMs = referenceOpMs();
const overhead = await samplerOverhead(refMs, 2);
console.log(`\nreference op sequence (256x256x4 conv block): ${refMs.toFixed(1)} ms`);
for (const r of overhead)
  console.log(
    `${r.sampler.padEnd(22)} check=${String(r.checkFinite).padEnd(5)} own ${r.samplerPerStepMs.toFixed(2)} ms/step  ratio ${(100 * r.ratio).toFixed(2)}%`,
  );
writeFileSync(
  join(out, 'overhead.json'),
  `${JSON.stringify({ meta, shape: [1, 256, 256, 4], referenceOpMs: refMs, target: 0.05, rows: overhead }, null, 2)}\n`,
);
