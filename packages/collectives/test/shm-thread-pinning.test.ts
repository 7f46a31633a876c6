// The zero-copy all-reduce pins its JS thread to a CPU of its own for the
// length of a large call (src/algorithms/shm-thread-pinning.ts): checked in
// real processes, from inside the call, against the thread's own affinity.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launch } from '../src/launcher/launch.js';
import { loadNativeAddon } from '../src/native/addon.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
execFileSync(process.execPath, [join(pkg, 'scripts/build-native.mjs'), '--if-stale', '--quiet']);
const { native } = loadNativeAddon();

interface Seen {
  rank: number;
  before: number[];
  large: number[];
  small: number[];
  off: number[];
  after: number[];
}

/** Runs pg-worker.ts's `pinning` scenario on `nproc` ranks and returns their RESULT rows. */
async function runPinning(nproc: number, env: NodeJS.ProcessEnv = {}): Promise<Seen[]> {
  let out = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += chunk;
      done();
    },
  });
  const result = await launch(
    {
      nproc,
      masterAddr: '127.0.0.1',
      masterPort: undefined,
      prefix: false,
      script: join(pkg, 'test/fixtures/pg-worker.ts'),
      scriptArgs: ['pinning'],
    },
    {
      stdout: sink,
      stderr: sink,
      execArgv: ['--import', 'tsx'],
      forwardSignals: false,
      env: { ...process.env, PLEXUS_COLLECTIVES_TRANSPORT: 'shm', ...env },
    },
  );
  expect(result.exitCode, out).toBe(0);
  return out
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)) as Seen)
    .sort((a, b) => a.rank - b.rank);
}

describe('thread pinning of the zero-copy all-reduce', () => {
  it.skipIf(native === undefined)(
    'setThreadAffinity restricts the calling thread and rejects CPU numbers out of range',
    () => {
      const own = native!.threadAffinity();
      expect(own.length).toBeGreaterThan(0);
      try {
        expect(native!.setThreadAffinity([own.at(-1)!])).toBe(true);
        expect(native!.threadAffinity()).toEqual([own.at(-1)]);
        expect(() => native!.setThreadAffinity([4096])).toThrow(/CPU numbers in \[0, 1024\)/);
        expect(() => native!.setThreadAffinity('0' as never)).toThrow(/an array of CPU numbers/);
      } finally {
        native!.setThreadAffinity(own);
      }
      expect(native!.threadAffinity()).toEqual(own);
    },
  );

  it.skipIf(native === undefined)(
    'each rank runs a large call on its own CPU, evenly spaced, and gets its affinity back; small calls, pinThread: false and PLEXUS_SHM_PIN=0 leave it alone',
    async () => {
      const rows = await runPinning(2);
      expect(rows.map((r) => r.rank)).toEqual([0, 1]);
      for (const r of rows) {
        expect(r.after, `rank ${r.rank}`).toEqual(r.before);
        expect(r.small, `rank ${r.rank}`).toEqual(r.before);
        expect(r.off, `rank ${r.rank}`).toEqual(r.before);
        if (r.before.length >= 2) {
          expect(r.large).toEqual([r.before[Math.floor((r.rank * r.before.length) / 2)]]);
        } else {
          // One CPU for two ranks: they must share it, so nobody is pinned.
          expect(r.large).toEqual(r.before);
        }
      }
      if (rows[0]!.before.length >= 2) expect(rows[0]!.large).not.toEqual(rows[1]!.large);

      for (const r of await runPinning(2, { PLEXUS_SHM_PIN: '0' })) {
        expect(r.large, `rank ${r.rank}`).toEqual(r.before);
      }
    },
    60_000,
  );

  it.skipIf(native === undefined)(
    'more ranks than allowed CPUs: no rank is pinned',
    async () => {
      const cpus = native!.threadAffinity().length;
      for (const r of await runPinning(cpus + 1)) {
        expect(r.large, `rank ${r.rank}`).toEqual(r.before);
        expect(r.after, `rank ${r.rank}`).toEqual(r.before);
      }
    },
    60_000,
  );
});
