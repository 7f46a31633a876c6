import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'plexus-main-job-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, '..', 'src', 'main-job.ts'), ...args],
      {
        env: { ...process.env, PLEXUS_BACKEND: 'wasm' },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

it('the main job trains when no model exists, serves it, streams a chat completion, and reuses the model next time', async () => {
  const args = [
    '--out',
    out,
    '--steps',
    '2',
    '--batch',
    '2',
    '--seq',
    '16',
    '--port',
    '0',
    '--once',
  ];
  const first = await run(args);
  expect(first.code, first.stdout).toBe(0);
  expect(first.stdout).toContain('training the tiny Mixtral');
  expect(existsSync(join(out, 'model', 'config.json'))).toBe(true);
  expect(first.stdout).toMatch(/\(\d+ prompt \+ \d+ completion tokens\)/);
  expect(first.stdout).toMatch(/dashboard at http:\/\/127\.0\.0\.1:\d+\//);
  const second = await run(args);
  expect(second.code, second.stdout).toBe(0);
  expect(second.stdout).toContain('serving the model in');
  expect(second.stdout).not.toContain('training the tiny Mixtral');
}, 180_000);
