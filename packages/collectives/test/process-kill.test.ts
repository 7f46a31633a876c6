import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const worker = join(pkg, 'test/fixtures/pg-worker.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('a process killed with SIGKILL mid-allReduce', () => {
  it('makes the survivors reject with a typed error well within the timeout', async () => {
    const worldSize = 3;
    const port = await freePort();
    const lines: string[][] = Array.from({ length: worldSize }, () => []);
    const waiters: (() => void)[] = [];
    const procs = Array.from({ length: worldSize }, (_, rank) => {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, 'sigkill'], {
        cwd: pkg,
        env: {
          ...process.env,
          RANK: String(rank),
          WORLD_SIZE: String(worldSize),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines[rank]!.push(line);
        for (const w of waiters.splice(0)) w();
      });
      return child;
    });
    const until = (pred: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (pred() ? resolve() : waiters.push(check));
        check();
      });
    await until(() => lines.every((l) => l.includes('first allReduce done')));
    const killedAt = performance.now();
    procs[2]!.kill('SIGKILL');
    await until(() => [0, 1].every((r) => lines[r]!.some((l) => l.startsWith('RESULT '))));
    const elapsed = performance.now() - killedAt;
    for (const r of [0, 1]) {
      const result = JSON.parse(lines[r]!.find((l) => l.startsWith('RESULT '))!.slice(7));
      expect(result.isInstance).toBe(true);
      expect(result.code).toBe('broken');
      expect(result.message).toMatch(
        /^@plexus\/collectives\/process-group: allReduce on rank \d failed/,
      );
    }
    // The timeout is 20 s; a dead peer's closed sockets are noticed at once.
    expect(elapsed).toBeLessThan(5_000);
  }, 40_000);
});
