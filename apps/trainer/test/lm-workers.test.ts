import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsReader } from '@plexus/models';
import { describe, expect, it } from 'vitest';
import { runLm } from '../src/commands/lm.js';
import { readCheckpoint } from '../src/lm/checkpoint/load.js';
import { APP_DIR, metricsOf, microArgs, tempRun } from './lm-helpers.js';

/** Run the real CLI (under tsx) in a child process; resolves with its output. */
function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'lm', ...args], {
      cwd: APP_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`plexus-train exited with ${code}:\n${out}`)),
    );
  });
}

function weights(out: string): Map<string, Float32Array> {
  const r = SafetensorsReader.fromBuffer(readFileSync(join(out, 'model', 'model.safetensors')));
  return new Map(r.names.map((n) => [n, r.read(n).data as Float32Array]));
}

describe('plexus-train lm --workers', () => {
  it('2 workers with batch B follow the loss curve of 1 worker with batch 2B', async () => {
    const { dir, data } = tempRun();
    const two = join(dir, 'two');
    const one = join(dir, 'one');
    const common = ['--steps', '4', '--checkpoint-every', '0'];
    const out = await cli(microArgs(data, two, [...common, '--workers', '2']));
    expect(out).toMatch(/starting 2 workers/);
    expect(out).toMatch(/2 worker\(s\)/);
    await runLm(microArgs(data, one, [...common, '--batch', '4']), {
      log: () => {},
      showProgress: false,
    });
    const m2 = metricsOf(two);
    const m1 = metricsOf(one);
    expect(m2).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(m2[i]!.loss).toBeCloseTo(m1[i]!.loss, 5);
      expect(Math.abs(m2[i]!.grad_norm - m1[i]!.grad_norm)).toBeLessThan(1e-4 * m1[i]!.grad_norm);
      expect(m2[i]!.comm_ms).toBeGreaterThan(0);
      expect(m1[i]!.comm_ms).toBe(0);
    }
    const w2 = weights(two);
    for (const [name, w] of weights(one)) {
      const other = w2.get(name)!;
      let max = 0;
      for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]! - other[i]!));
      expect(max, name).toBeLessThan(1e-5);
    }
  }, 60_000);

  it('--diloco H: replicas train locally and hold the same parameters after each outer step', async () => {
    const { dir, data } = tempRun();
    const out = join(dir, 'diloco');
    await cli(
      microArgs(data, out, [
        '--steps',
        '4',
        '--checkpoint-every',
        '2',
        '--workers',
        '2',
        '--diloco',
        '2',
      ]),
    );
    const m = metricsOf(out);
    expect(m.map((x) => x.comm_ms > 0)).toEqual([false, true, false, true]);
    const r0 = readCheckpoint(join(out, 'checkpoints', 'rank-0', 'step-00000004'));
    const r1 = readCheckpoint(join(out, 'checkpoints', 'rank-1', 'step-00000004'));
    let sameParams = 0;
    let sameMoments = 0;
    for (const [name, v] of r0.tensors) {
      const eq = Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(
        Buffer.from(r1.tensors.get(name)!.buffer, r1.tensors.get(name)!.byteOffset, v.byteLength),
      );
      if (name.startsWith('model/') && eq) sameParams++;
      if (name.startsWith('optimizer.m/') && eq) sameMoments++;
    }
    const params = [...r0.tensors.keys()].filter((n) => n.startsWith('model/')).length;
    // Outer step: every replica restarts from the same shared parameters ...
    expect(sameParams).toBe(params);
    // ... while the inner AdamW moments stay local (different data per worker).
    expect(sameMoments).toBeLessThan(params);
    expect(r0.tensors.get('outer.momentum/')!.some((x) => x !== 0)).toBe(true);
  }, 60_000);
});
