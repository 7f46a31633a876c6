import { describe, expect, it } from 'vitest';
import { createDiLoCo } from '../../src/diloco/diloco.js';
import { onNetwork, rng } from '../algorithms/helpers.js';

// Least squares per worker: loss_k(x) = 1/2 ||A_k x - b_k||^2, A_k of m x d.
const d = 6;
const m = 10;
const k = 4;
const innerLr = 0.02;

function problem(seed: number) {
  const rand = rng(seed);
  return Array.from({ length: k }, () => ({
    A: Array.from({ length: m }, () => Array.from({ length: d }, () => rand() * 2 - 1)),
    b: Array.from({ length: m }, () => rand() * 2 - 1),
  }));
}
type Problem = ReturnType<typeof problem>;

function gradient(p: Problem[number], x: ArrayLike<number>): number[] {
  const g = new Array<number>(d).fill(0);
  for (let i = 0; i < m; i++) {
    let r = -p.b[i]!;
    for (let j = 0; j < d; j++) r += p.A[i]![j]! * x[j]!;
    for (let j = 0; j < d; j++) g[j]! += p.A[i]![j]! * r;
  }
  return g;
}

function totalLoss(probs: Problem, x: ArrayLike<number>): number {
  let s = 0;
  for (const p of probs) {
    for (let i = 0; i < m; i++) {
      let r = -p.b[i]!;
      for (let j = 0; j < d; j++) r += p.A[i]![j]! * x[j]!;
      s += 0.5 * r * r;
    }
  }
  return s;
}

/**
 * Sequential reference of DiLoCo (Algorithm 1 of Douillard et al., 2023) and
 * of the one-step delayed variant, written independently of the library:
 * plain arrays, the k workers simulated in a loop.
 */
function reference(
  probs: Problem,
  H: number,
  rounds: number,
  delayed: boolean,
  lr = 0.7,
  mu = 0.9,
) {
  let global = new Array<number>(d).fill(0);
  const v = new Array<number>(d).fill(0);
  let pendingDelta: number[] | undefined;
  const outer = (delta: number[]) => {
    for (let j = 0; j < d; j++) {
      v[j] = mu * v[j]! + delta[j]!;
      global[j]! -= lr * (delta[j]! + mu * v[j]!);
    }
  };
  for (let t = 0; t < rounds; t++) {
    const deltas = probs.map((p) => {
      const x = global.slice();
      for (let h = 0; h < H; h++) {
        const g = gradient(p, x);
        for (let j = 0; j < d; j++) x[j]! -= innerLr * g[j]!;
      }
      return global.map((gj, j) => gj - x[j]!);
    });
    const avg = global.map((_, j) => deltas.reduce((s, dl) => s + dl[j]!, 0) / k);
    if (!delayed) outer(avg);
    else {
      if (pendingDelta) outer(pendingDelta);
      pendingDelta = avg;
    }
    global = global.slice();
  }
  if (delayed && pendingDelta) outer(pendingDelta);
  return global;
}

async function runDiLoCo(probs: Problem, H: number, rounds: number, mode: 'sync' | 'delayed') {
  const { results } = await onNetwork(k, async (p2p, rank) => {
    const params = new Float64Array(d);
    const worker = createDiLoCo(p2p, params, { innerSteps: H, mode });
    for (let step = 0; step < H * rounds; step++) {
      const g = gradient(probs[rank]!, params);
      for (let j = 0; j < d; j++) params[j]! -= innerLr * g[j]!;
      await worker.afterInnerStep();
    }
    await worker.flush();
    return { params, outerSteps: worker.outerSteps };
  });
  return results;
}

describe('DiLoCo on a least-squares problem', () => {
  for (const mode of ['sync', 'delayed'] as const) {
    it(`${mode}: equals the sequential reference on every worker and lowers the loss`, async () => {
      const probs = problem(21);
      const H = 5;
      const rounds = 12;
      const expected = reference(probs, H, rounds, mode === 'delayed');
      const results = await runDiLoCo(probs, H, rounds, mode);
      for (const r of results) {
        expect(r.outerSteps).toBe(rounds);
        for (let j = 0; j < d; j++)
          expect(Math.abs(r.params[j]! - expected[j]!)).toBeLessThan(1e-10);
      }
      // Optimum of the global problem by plain gradient descent on the summed loss.
      const opt = new Array<number>(d).fill(0);
      for (let it = 0; it < 4000; it++) {
        const g = probs.map((p) => gradient(p, opt));
        for (let j = 0; j < d; j++) opt[j]! -= 0.01 * g.reduce((s, gk) => s + gk[j]!, 0);
      }
      const best = totalLoss(probs, opt);
      const start = totalLoss(probs, new Array(d).fill(0));
      const end = totalLoss(probs, results[0]!.params);
      // The delayed update converges more slowly, as Kale et al. (2025) report.
      expect(end - best).toBeLessThan((mode === 'sync' ? 0.2 : 0.5) * (start - best));
    });
  }

  it('rejects bad options', () => {
    const p2p = { specificationVersion: 'v1', rank: 0, worldSize: 1 } as never;
    expect(() => createDiLoCo(p2p, new Float32Array(2), { innerSteps: 0 })).toThrow(
      /^@plexus\/collectives\/diloco: expected innerSteps to be a positive integer/,
    );
    expect(() =>
      createDiLoCo(p2p, new Float32Array(2), { innerSteps: 1, outerMomentum: 1 }),
    ).toThrow(/outerMomentum in \[0, 1\)/);
    expect(() => createDiLoCo(p2p, [1, 2] as never, { innerSteps: 1 })).toThrow(/Float32Array/);
  });
});
