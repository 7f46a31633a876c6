import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type CollectiveBuffer,
  initProcessGroup,
  type ProcessGroup,
  type ShmTransport,
} from '../src/index.js';
import { cases, input } from './fixtures/cases.js';
import { cleanedUpAfterEach } from './fixtures/cleanup.js';
import { expectSurvivorsRejectAfterKill } from './fixtures/kill-mid-all-reduce.js';
import { localGroups } from './fixtures/local-groups.js';
import { expectClose, expected } from './fixtures/reference.js';
import { runBattery } from './fixtures/run-battery.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const cli = join(pkg, 'src/launcher/cli.ts');
const worker = join(pkg, 'test/fixtures/pg-worker.ts');
const { children, groups } = cleanedUpAfterEach();

/** Files in /dev/shm that belong to shared-memory groups created by this package. */
function shmFiles(): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith('plexus-shm-'));
}

async function initAll(
  worldSize: number,
  transport: 'shm' | 'auto',
  slotBytes?: number,
): Promise<ProcessGroup[]> {
  const gs = await localGroups(worldSize, {
    transport,
    ...(slotBytes !== undefined ? { shm: { slotBytes } } : {}),
  });
  groups.push(...gs);
  return gs;
}

function decode(values: [string, number[]][]): CollectiveBuffer[] {
  return values.map(([ctor, v]) =>
    ctor === 'Float32Array'
      ? new Float32Array(v)
      : ctor === 'Float64Array'
        ? new Float64Array(v)
        : new Int32Array(v),
  );
}

describe("initProcessGroup({ transport: 'shm' }): collectives match a sequential reference", () => {
  for (const worldSize of [1, 2, 3, 4]) {
    it(`worldSize ${worldSize}`, async () => {
      // Small slots, so that the battery's larger messages stream in chunks.
      const gs = await initAll(worldSize, 'shm', 4096);
      for (const g of gs) expect(g.transportKind).toBe('shm');
      const seed = 300 + worldSize;
      const perRank = await Promise.all(gs.map((g) => runBattery(g, seed)));
      for (const c of cases()) {
        const inputs: CollectiveBuffer[] = Array.from({ length: worldSize }, (_, r) =>
          input(c, r, worldSize, seed),
        );
        for (let r = 0; r < worldSize; r++) {
          expectClose(perRank[r]![c.id]!, expected(c, r, inputs), c, r);
        }
      }
    }, 20_000);
  }

  it("'auto' picks shm on one host; a several-MiB all-reduce streams through the slots", async () => {
    const gs = await initAll(3, 'auto');
    for (const g of gs) {
      expect(g.transportKind).toBe('shm');
      expect(g.topology.hostOf).toEqual([0, 0, 0]);
    }
    const n = (3 << 20) / 4 + 5; // 3 MiB + 20 bytes of float32 per rank
    const inputs = gs.map((g) =>
      Float32Array.from({ length: n }, (_, i) => ((i + g.rank * 5) % 17) - 8),
    );
    const want = new Float32Array(n);
    for (const x of inputs) for (let i = 0; i < n; i++) want[i]! += x[i]!;
    const out = await Promise.all(gs.map((g, r) => g.allReduce(inputs[r]!, 'sum')));
    for (const o of out) expect(Buffer.from(o.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    const ids = gs.map((g) => (g.transport as ShmTransport).id);
    for (const g of groups.splice(0).reverse()) await g.destroy();
    expect(shmFiles().filter((f) => ids.some((id) => f.includes(id)))).toEqual([]);
  }, 20_000);

  it('rejects an unknown transport name', async () => {
    await expect(
      initProcessGroup({ rank: 0, worldSize: 1, env: { PLEXUS_COLLECTIVES_TRANSPORT: 'udp' } }),
    ).rejects.toThrow(
      /^@plexus\/collectives\/process-group: expected transport \(or PLEXUS_COLLECTIVES_TRANSPORT\) to be 'tcp', 'shm' or 'auto', got "udp"/,
    );
  });
});

describe('processes over shared memory', () => {
  it('plexus-run with PLEXUS_COLLECTIVES_TRANSPORT=shm: collectives match the reference, no files left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-shm-run-'));
    const before = new Set(shmFiles());
    try {
      const worldSize = 3;
      const seed = 7;
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            cli,
            '--nproc',
            String(worldSize),
            worker,
            'battery',
            dir,
            String(seed),
          ],
          { cwd: pkg, env: { ...process.env, PLEXUS_COLLECTIVES_TRANSPORT: 'shm' } },
        );
        children.push(child);
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const perRank = Array.from({ length: worldSize }, (_, rank) =>
        decode(JSON.parse(readFileSync(join(dir, `rank${rank}.json`), 'utf8'))),
      );
      for (const c of cases()) {
        const inputs: CollectiveBuffer[] = Array.from({ length: worldSize }, (_, q) =>
          input(c, q, worldSize, seed),
        );
        for (let q = 0; q < worldSize; q++)
          expectClose(perRank[q]![c.id]!, expected(c, q, inputs), c, q);
      }
      expect(shmFiles().filter((f) => !before.has(f))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a SIGKILLed peer mid-allReduce makes the survivors reject well within the timeout', async () => {
    const before = new Set(shmFiles());
    await expectSurvivorsRejectAfterKill(children, { PLEXUS_COLLECTIVES_TRANSPORT: 'shm' });
    // The segments were unlinked at the rendezvous: even the killed rank left none.
    expect(shmFiles().filter((f) => !before.has(f))).toEqual([]);
  }, 40_000);
});
