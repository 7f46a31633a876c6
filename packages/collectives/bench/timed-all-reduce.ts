// The timed all-reduce loop shared by the benchmark workers (TCP and shared
// memory), timed as nccl-tests' all_reduce_perf does it: after a barrier each
// rank times `iters` back-to-back all-reduces and divides by `iters`, and the
// ranks' figures are averaged. That is repeated `LOOPS` times (one sample
// each). The slowest rank's time of each single iteration is kept beside it
// (`slowestMs`), the stricter figure. bench/allreduce_gloo.py times Gloo the
// same way, with the same iteration counts (keep the two in step).
import type { ProcessGroup } from '../src/index.js';

/** Timed loops per size. */
export const LOOPS = 3;

/** Back-to-back all-reduces per timed loop, by message size (as in allreduce_gloo.py). */
export function itersFor(bytes: number): number {
  return bytes >= 128 << 20 ? 5 : bytes >= 16 << 20 ? 10 : bytes >= 1 << 20 ? 20 : 50;
}

/** One size's samples, as rank 0 prints them in a `RESULT {...}` line. */
export interface TimedAllReduce {
  /** Message size. */
  bytes: number;
  /** All-reduces per timed loop. */
  iters: number;
  /** Per loop: its time / iters, averaged over ranks (ms). */
  ms: number[];
  /** Per iteration: the slowest rank's time (ms). */
  slowestMs: number[];
}

/**
 * Times float32 sum all-reduces of `bytes` on `g` (every rank calls it) and
 * checks the result: each all-reduce of ones multiplies them by the world
 * size, exact in float32 while that stays below 2^24, or while n is a power
 * of two and the product stays finite (up to 2^127). With `shared`, the
 * buffer comes from `g.allocateShared` (symmetric memory).
 */
export async function timeAllReduce(
  g: ProcessGroup,
  bytes: number,
  shared = false,
): Promise<TimedAllReduce> {
  const buf = shared
    ? await g.allocateShared(Float32Array, bytes / 4)
    : new Float32Array(bytes / 4);
  buf.fill(1);
  const iters = itersFor(bytes);
  await g.allReduce(buf, 'sum'); // warm-up: JIT, buffers, TCP windows
  const loopMs = new Float64Array(LOOPS);
  const perIter = new Float64Array(LOOPS * iters);
  const expected = g.worldSize ** iters;
  const exact =
    expected < 2 ** 24 || (Number.isInteger(Math.log2(g.worldSize)) && expected <= 2 ** 127);
  for (let loop = 0; loop < LOOPS; loop++) {
    buf.fill(1);
    await g.barrier();
    const start = performance.now();
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      await g.allReduce(buf, 'sum');
      perIter[loop * iters + i] = performance.now() - t0;
    }
    loopMs[loop] = (performance.now() - start) / iters;
    if (exact && (buf[0] !== expected || buf[buf.length - 1] !== expected)) {
      throw new Error(`wrong result ${buf[0]}, expected ${expected}`);
    }
  }
  g.releaseShared(buf);
  const meanOverRanks = await g.allReduce(loopMs, 'avg');
  const slowest = await g.allReduce(perIter, 'max');
  return { bytes, iters, ms: Array.from(meanOverRanks), slowestMs: Array.from(slowest) };
}
