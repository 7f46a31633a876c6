import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** How to start one more copy of this CLI (the script and Node flags, e.g. `--import tsx`). */
export interface SelfCommand {
  readonly script: string;
  readonly execArgv: readonly string[];
}

/** A free TCP port on the loopback interface for rank 0's store. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start `workers` copies of `plexus-train lm` with the environment torchrun
 * and `plexus-run` set (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT), wait for all of them, and stop the others as
 * soon as one fails. SIGTERM is forwarded (SIGINT from a terminal reaches
 * the workers by itself). Rank 0's output is passed through; the others'
 * only on failure.
 */
export async function launchWorkers(
  self: SelfCommand,
  args: readonly string[],
  workers: number,
): Promise<void> {
  const port = await freePort();
  const children: ChildProcess[] = [];
  const exits = Array.from({ length: workers }, (_, rank) => {
    const child = spawn(process.execPath, [...self.execArgv, self.script, 'lm', ...args], {
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(workers),
        LOCAL_RANK: String(rank),
        LOCAL_WORLD_SIZE: String(workers),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
      },
      stdio: rank === 0 ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    return new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code === 0) resolve();
        else {
          for (const c of children)
            if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
          reject(
            new Error(
              `worker rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${stderr ? `:\n${stderr}` : ''}`,
            ),
          );
        }
      });
    });
  });
  const forward = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('SIGTERM', forward);
  const results = await Promise.allSettled(exits);
  process.off('SIGTERM', forward);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
