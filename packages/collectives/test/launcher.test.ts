import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CollectiveBuffer } from '../src/index.js';
import { parseLaunchArgs } from '../src/launcher/args.js';
import { cases, input } from './fixtures/cases.js';
import { cleanedUpAfterEach } from './fixtures/cleanup.js';
import { expectClose, expected } from './fixtures/reference.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const cli = join(pkg, 'src/launcher/cli.ts');
const worker = join(pkg, 'test/fixtures/pg-worker.ts');
const { children } = cleanedUpAfterEach();

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: pkg });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('plexus-run', () => {
  it('runs N processes with the torchrun environment; their collectives match the reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-run-'));
    try {
      const worldSize = 3;
      const seed = 5;
      const r = await run(['--nproc', String(worldSize), worker, 'battery', dir, String(seed)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (let rank = 0; rank < worldSize; rank++) {
        expect(r.stdout).toContain(
          `[rank${rank}]: joined as rank ${rank} of ${worldSize} (LOCAL_RANK ${rank})`,
        );
      }
      const perRank = Array.from({ length: worldSize }, (_, rank) =>
        (
          JSON.parse(readFileSync(join(dir, `rank${rank}.json`), 'utf8')) as [string, number[]][]
        ).map(([ctor, values]) =>
          ctor === 'Float32Array'
            ? new Float32Array(values)
            : ctor === 'Float64Array'
              ? new Float64Array(values)
              : new Int32Array(values),
        ),
      );
      for (const c of cases()) {
        const inputs: CollectiveBuffer[] = Array.from({ length: worldSize }, (_, q) =>
          input(c, q, worldSize, seed),
        );
        for (let q = 0; q < worldSize; q++)
          expectClose(perRank[q]![c.id]!, expected(c, q, inputs), c, q);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a failing worker stops the others; the exit names the rank and code', async () => {
    const t = performance.now();
    const r = await run(['--nproc', '3', worker, 'fail']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[rank1]: rank 1 gives up');
    expect(r.stderr).toMatch(
      /plexus-run: rank 1 \(pid \d+\) exited with code 3; stopped the other workers/,
    );
    expect(r.stderr).toMatch(/rank 0 was killed by signal SIGTERM/);
    expect(performance.now() - t).toBeLessThan(20_000);
  }, 30_000);

  it('forwards SIGTERM to every worker and exits with 128 + 15', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, '--nproc', '2', worker, 'signal'],
      {
        cwd: pkg,
      },
    );
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('[rank0]: ready') && stdout.includes('[rank1]: ready')) resolve();
      });
    });
    child.kill('SIGTERM');
    expect(await closed).toBe(143);
    expect(stdout).toContain('[rank0]: got SIGTERM');
    expect(stdout).toContain('[rank1]: got SIGTERM');
    expect(stderr).toContain('plexus-run: received SIGTERM; forwarded it to every worker');
  }, 30_000);

  it('usage errors are clear', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^@plexus\/collectives\/launcher: missing the script to run/);
    expect(none.stderr).toContain('Usage: plexus-run --nproc N');
    const missing = await run(['--nproc', '2', 'no-such-script.js']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/script not found: no-such-script\.js/);
    expect(() => parseLaunchArgs(['--nproc', 'two', 'x.js'])).toThrow(
      /--nproc expects an integer in \[1, 1024\], got "two"/,
    );
    expect(() => parseLaunchArgs(['--frobnicate', 'x.js'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseLaunchArgs(['x.js'])).toThrow(/missing --nproc/);
    expect(
      parseLaunchArgs(['--nproc_per_node=4', '--master_port', '1234', 's.js', '--lr', '3']),
    ).toEqual({
      nproc: 4,
      masterAddr: '127.0.0.1',
      masterPort: 1234,
      prefix: true,
      script: 's.js',
      scriptArgs: ['--lr', '3'],
    });
  }, 30_000);
});
