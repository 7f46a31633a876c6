// PyTorch's Gloo all-reduce as the peer of our all-reduce benchmarks: n
// processes of bench/allreduce_gloo.py on loopback, one intra-op thread each.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resultLines } from './launch-ranks.js';
import type { TimedAllReduce } from './timed-all-reduce.js';

/** One size's Gloo samples (timed as timed-all-reduce.ts does), with the PyTorch version. */
export interface GlooRow extends TimedAllReduce {
  torch?: string;
}

/** A TCP port free on 127.0.0.1 at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs Gloo's all-reduce on `n` ranks over `sizes` with `python` (one that
 * imports torch); resolves to rank 0's rows, or to a one-line reason when a
 * rank failed (no torch, say), so a benchmark can still report its own side.
 */
export async function runGloo(
  python: string,
  n: number,
  sizes: number[],
): Promise<GlooRow[] | string> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./allreduce_gloo.py', import.meta.url));
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
      p.on('close', (code) => resolve({ code, out, err }));
    });
  });
  const results = await Promise.all(procs);
  const bad = results.find((r) => r.code !== 0);
  if (bad)
    return `gloo failed (exit ${bad.code}): ${bad.err.trim().split('\n').slice(-3).join(' | ')}`;
  return resultLines<GlooRow>(results[0]!.out);
}
