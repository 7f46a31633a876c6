// PyTorch's Gloo all-reduce as the peer of our all-reduce benchmarks: n
// processes of bench/allreduce_gloo.py on loopback, one intra-op thread each.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/launcher/launch.js';
import { resultLines } from './launch-ranks.js';
import type { TimedAllReduce } from './timed-all-reduce.js';

/** One size's Gloo samples (timed as timed-all-reduce.ts does), with the PyTorch version. */
export interface GlooRow extends TimedAllReduce {
  /** `torch.__version__` of the peer. */
  torch?: string;
}

/**
 * Runs Gloo's all-reduce on `n` ranks over `sizes` with `python` (one that
 * imports torch); resolves to rank 0's rows, or to a one-line reason when a
 * rank failed (no torch, say), so a benchmark can still report its own side.
 * A rank that fails takes the others down with it rather than leaving them
 * waiting for it until Gloo's own timeout.
 */
export async function runGloo(
  python: string,
  n: number,
  sizes: number[],
): Promise<GlooRow[] | string> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./allreduce_gloo.py', import.meta.url));
  const children: ReturnType<typeof spawn>[] = [];
  const procs = Array.from({ length: n }, (_, rank) => {
    const p = spawn(python, [script, JSON.stringify(sizes)], {
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(n),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        OMP_NUM_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      p.on('error', (e) => resolve({ code: -1, out, err: String(e) }));
      p.on('close', (code) => {
        if (code !== 0) for (const c of children) if (c !== p && c.exitCode === null) c.kill();
        resolve({ code, out, err });
      });
    });
  });
  const results = await Promise.all(procs);
  // The first to fail says why; the ranks it took down exit on a signal (code null).
  const bad =
    results.find((r) => r.code !== 0 && r.code !== null) ?? results.find((r) => r.code !== 0);
  if (bad)
    return `gloo failed (exit ${bad.code}): ${bad.err.trim().split('\n').slice(-3).join(' | ')}`;
  return resultLines<GlooRow>(results[0]!.out);
}
