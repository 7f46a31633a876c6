import { describe, expect, it } from 'vitest';
import { createCompressedAllReducer } from '../../src/compression/compressed-all-reduce.js';
import { allIdentical, onNetwork, rng } from '../algorithms/helpers.js';

const CODECS = ['fp16', 'bf16', 'int8'] as const;

function inputs(p: number, n: number, seed: number): Float32Array[] {
  return Array.from({ length: p }, (_, r) => {
    const rand = rng(seed * 31 + r);
    return Float32Array.from({ length: n }, () => (rand() - 0.5) * 2);
  });
}

function exactSum(xs: Float32Array[]): Float64Array {
  const out = new Float64Array(xs[0]!.length);
  for (const x of xs) for (let i = 0; i < out.length; i++) out[i]! += x[i]!;
  return out;
}

/** Per-codec bound on |result - exact| for one step with inputs in [-1, 1]: worker + server quantisation. */
function stepBound(codec: (typeof CODECS)[number], p: number): number {
  // Worker: p quantisations of values <= 1; server: one of a sum <= p.
  const unit = codec === 'fp16' ? 2 ** -11 : codec === 'bf16' ? 2 ** -8 : 1 / 254;
  return unit * (p * 1 + p) * 1.01 + 1e-6 * p;
}

describe('compressed all-reduce', () => {
  it('single step: every rank identical and within the quantisation bound, world sizes 1..6', async () => {
    for (const codec of CODECS) {
      for (let p = 1; p <= 6; p++) {
        for (const n of [0, 1, 7, 1001]) {
          const xs = inputs(p, n, p + n);
          const exact = exactSum(xs);
          const reducer = createCompressedAllReducer({ codec, blockSize: 64 });
          const { results } = await onNetwork(p, (p2p, r) =>
            reducer.allReduce(p2p, xs[r]!.slice(), 'sum', { key: `r${r}` }),
          );
          expect(allIdentical(results), `${codec} p=${p} n=${n}`).toBe(true);
          let worst = 0;
          for (let i = 0; i < n; i++)
            worst = Math.max(worst, Math.abs(results[0]![i]! - exact[i]!));
          expect(worst, `${codec} p=${p} n=${n}`).toBeLessThanOrEqual(stepBound(codec, p));
        }
      }
    }
  });

  it('avg divides by the world size', async () => {
    const p = 4;
    const xs = inputs(p, 100, 3);
    const exact = exactSum(xs);
    const reducer = createCompressedAllReducer({ codec: 'bf16' });
    const { results } = await onNetwork(p, (p2p, r) =>
      reducer.allReduce(p2p, xs[r]!.slice(), 'avg', { key: `r${r}` }),
    );
    for (let i = 0; i < 100; i++) expect(results[0]![i]!).toBeCloseTo(exact[i]! / p, 1);
  });

  it('error feedback keeps the running sum within one step of the exact one; without it the error grows', async () => {
    const p = 4;
    const n = 256;
    const steps = 150;
    for (const codec of CODECS) {
      const drift: Record<string, number> = {};
      for (const errorFeedback of [true, false]) {
        // Each rank keeps its own reducer, as separate processes would.
        const reducers = Array.from({ length: p }, () =>
          createCompressedAllReducer({ codec, blockSize: 64, errorFeedback }),
        );
        const running = new Float64Array(n);
        const exactRunning = new Float64Array(n);
        // Constant small-magnitude gradients expose the bias that feedback removes.
        const xs = inputs(p, n, 7).map((x) => x.map((v) => 0.01 + v * 1e-3));
        const bufs = xs.map((x) => x.slice());
        for (let t = 0; t < steps; t++) {
          for (const [r, b] of bufs.entries()) b.set(xs[r]!);
          const { results } = await onNetwork(p, (p2p, r) =>
            reducers[r]!.allReduce(p2p, bufs[r]!, 'sum'),
          );
          const exact = exactSum(xs);
          for (let i = 0; i < n; i++) {
            running[i]! += results[0]![i]!;
            exactRunning[i]! += exact[i]!;
          }
        }
        let worst = 0;
        for (let i = 0; i < n; i++)
          worst = Math.max(worst, Math.abs(running[i]! - exactRunning[i]!));
        drift[String(errorFeedback)] = worst;
      }
      // One-step bound for inputs of magnitude ~0.011 (p quantisations of 0.011 + one of 0.044).
      const unit = codec === 'fp16' ? 2 ** -11 : codec === 'bf16' ? 2 ** -8 : 1 / 254;
      const oneStep = unit * (p * 0.0115 + p * 0.0115) * 1.5;
      expect(drift.true, `${codec} with feedback`).toBeLessThanOrEqual(oneStep);
      expect(drift.false!, `${codec} without feedback`).toBeGreaterThan(10 * drift.true!);
    }
  }, 30_000);

  it('rejects unsupported ops and buffers', async () => {
    const reducer = createCompressedAllReducer({ codec: 'fp16' });
    const { results } = await onNetwork(1, (p2p) =>
      reducer.allReduce(p2p, new Float32Array(2), 'max' as 'sum').catch((e: Error) => e.message),
    );
    expect(String(results[0])).toMatch(
      /^@plexus\/collectives\/compression\/all-reduce: compressed all-reduce supports 'sum' and 'avg'/,
    );
    expect(() => createCompressedAllReducer({ codec: 'fp8' as 'fp16' })).toThrow(/expected codec/);
  });
});
