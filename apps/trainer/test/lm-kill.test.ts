import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLm } from '../src/commands/lm.js';
import { APP_DIR, metricsOf, microArgs, tempRun } from './lm-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('plexus-train lm: kill -9 and resume', () => {
  it('loses at most the steps since the last committed checkpoint and redoes them bit-identically', async () => {
    const { dir, data } = tempRun();
    const out = join(dir, 'run');
    const every = 3;
    const args = microArgs(data, out, ['--steps', '60', '--checkpoint-every', String(every)]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lm', ...args], {
      cwd: APP_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
    // A random moment: after 4..20 completed steps, plus 0..150 ms.
    const target = 4 + Math.floor(Math.random() * 17);
    const deadline = Date.now() + 60_000;
    while (
      (!existsSync(join(out, 'metrics.jsonl')) || metricsOf(out).length < target) &&
      Date.now() < deadline
    )
      await sleep(20);
    await sleep(Math.random() * 150);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = metricsOf(out);
    const committed = [...stdout.matchAll(/checkpoint step (\d+) committed/g)].map((m) =>
      Number(m[1]),
    );
    const lastCommitted = committed.at(-1) ?? 0;
    expect(before.length).toBeGreaterThanOrEqual(target);

    const lines: string[] = [];
    // Same options (the schedule depends on --steps); stop once the lost steps are redone.
    const summary = await runLm([...args, '--resume'], {
      log: (l) => lines.push(l),
      showProgress: false,
      onStep: (s) => s >= before.length,
    });
    const from = summary.resumedFrom ?? 0;
    // Lost work: only the steps after the newest checkpoint that was on disk.
    expect(from).toBeGreaterThanOrEqual(lastCommitted);
    expect(from).toBeLessThanOrEqual(before.length);
    expect(from % every).toBe(0);
    expect(before.length - from).toBeLessThanOrEqual(2 * every);
    // The redone steps equal what the killed process computed.
    const after = metricsOf(out);
    for (const m of before) expect(after[m.step - 1]!.loss, `step ${m.step}`).toBe(m.loss);
    expect(summary.lastStep).toBe(before.length);
    // No torn temporary directory survives.
    expect(readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  }, 90_000);
});

describe('plexus-train lm: SIGTERM', () => {
  it('finishes the step, checkpoints it and exits 0; --resume continues from there', async () => {
    const { dir, data } = tempRun();
    const out = join(dir, 'run');
    const args = microArgs(data, out, ['--steps', '60', '--checkpoint-every', '50']);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lm', ...args], {
      cwd: APP_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const deadline = Date.now() + 60_000;
    while (
      (!existsSync(join(out, 'metrics.jsonl')) || metricsOf(out).length < 5) &&
      Date.now() < deadline
    )
      await sleep(20);
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/SIGTERM: stopping after this step/);
    const steps = metricsOf(out).length;
    expect(steps).toBeGreaterThanOrEqual(5);
    expect(steps).toBeLessThan(60);
    // Not a multiple of --checkpoint-every: the stop itself was checkpointed.
    expect(output).toContain(`checkpoint step ${steps} committed`);
    const summary = await runLm([...args, '--resume'], {
      log: () => {},
      showProgress: false,
      onStep: (s) => s >= steps + 1,
    });
    expect(summary.resumedFrom).toBe(steps);
  }, 90_000);
});
