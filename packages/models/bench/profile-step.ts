// Per-kernel profile of one training step (forward + backward + AdamW) on a
// backend: kernel counts and summed kernel times by name, and the split of
// wall time between forward+backward and the optimizer.
// Run: node --import tsx bench/profile-step.ts [tiny|tiny-moe] [wasm|cpu] [steps]
// (steps: how many timed steps give the CPU-ms medians, default 9).
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, CausalLM, presetConfig } from '../src/model/index.js';

const preset = process.argv[2] ?? 'tiny';
const backend = (process.argv[3] ?? 'wasm') as 'wasm' | 'cpu';
await initBackend({ backend });
const model = CausalLM.init(presetConfig(preset), { seed: 1 });
const opt = new AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
const rng = new SeededRandom(1);
const vocab = model.config.vocab_size;
const step = () => {
  const ids = Int32Array.from({ length: 8 * 64 }, () => rng.int(vocab));
  const c0 = process.cpuUsage();
  const g = model.valueAndGrads({ ids, batch: 8, seq: 64 });
  const c1 = process.cpuUsage(c0);
  opt.step(g.grads);
  tf.dispose([...g.grads.values()]);
  model.param('model.norm.weight').dataSync();
  const c2 = process.cpuUsage(c0);
  return { grads: (c1.user + c1.system) / 1000, total: (c2.user + c2.system) / 1000 };
};
const steps = Number(process.argv[4] ?? 9);
step();
const times = Array.from({ length: steps }, step);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
console.log(
  'cpu ms (fwd+bwd, total):',
  times.map((t) => `${t.grads.toFixed(0)}/${t.total.toFixed(0)}`).join(' '),
);
console.log(
  `median cpu ms: fwd+bwd ${median(times.map((t) => t.grads)).toFixed(1)}, total ${median(times.map((t) => t.total)).toFixed(1)}; min total ${Math.min(...times.map((t) => t.total)).toFixed(1)}`,
);
const info = await tf.profile(() => {
  step();
});
const by = new Map<string, { n: number; ms: number }>();
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += k.kernelTimeMs as number;
  by.set(k.name, e);
}
const rows = [...by].sort((a, b) => b[1].ms - a[1].ms);
let n = 0;
let ms = 0;
for (const [, e] of rows) {
  n += e.n;
  ms += e.ms;
}
console.log(`kernels ${n}, summed kernel ms ${ms.toFixed(1)}`);
for (const [name, e] of rows.slice(0, 30))
  console.log(name.padEnd(24), `${e.n}`.padStart(5), e.ms.toFixed(1).padStart(8));
opt.dispose();
model.dispose();
