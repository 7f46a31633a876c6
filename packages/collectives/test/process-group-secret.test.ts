import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createTcpStore,
  initProcessGroup,
  PlexusCollectivesError,
  type ProcessGroup,
} from '../src/index.js';
import { connectHandshake } from '../src/transport/tcp/handshake.js';
import { freePort } from './fixtures/local-groups.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));

const envOf = (rank: number, worldSize: number, port: number, secret?: string) => ({
  RANK: String(rank),
  WORLD_SIZE: String(worldSize),
  MASTER_ADDR: '127.0.0.1',
  MASTER_PORT: String(port),
  ...(secret !== undefined ? { PLEXUS_COLLECTIVES_SECRET: secret } : {}),
});

/** Expects the store's typed authentication error. */
async function expectAuthFailure(p: Promise<unknown>, why: RegExp) {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(PlexusCollectivesError.isInstance(error)).toBe(true);
  expect((error as Error).message).toMatch(
    /^@plexus\/collectives\/tcp-store: authentication failed with the store at /,
  );
  expect((error as Error).message).toMatch(why);
}

describe('initProcessGroup: one shared secret for the store and the transport', () => {
  it('PLEXUS_COLLECTIVES_SECRET: ranks with it form the group; strangers are refused by the store', async () => {
    const port = await freePort();
    const gs: ProcessGroup[] = await Promise.all(
      [0, 1].map((rank) =>
        initProcessGroup({ env: envOf(rank, 2, port, 'run secret'), timeoutMs: 10_000 }),
      ),
    );
    try {
      const out = await Promise.all(gs.map((g) => g.allReduce(Int32Array.of(g.rank + 1), 'sum')));
      for (const o of out) expect(Array.from(o)).toEqual([3]);
      await expectAuthFailure(
        createTcpStore({ host: '127.0.0.1', port, timeoutMs: 10_000 }),
        /requires a shared secret and none was given/,
      );
      await expectAuthFailure(
        createTcpStore({ host: '127.0.0.1', port, secret: 'guess', timeoutMs: 10_000 }),
        /refused this client/,
      );
    } finally {
      await gs[1]!.destroy();
      await gs[0]!.destroy();
    }
  });

  it('a rank with a wrong secret fails at once with the typed error', async () => {
    const port = await freePort();
    const master = initProcessGroup({ env: envOf(0, 2, port, 'right'), timeoutMs: 1_500 });
    const masterDone = master.then(
      () => 'joined',
      (e: unknown) => (e as PlexusCollectivesError).code,
    );
    const t0 = performance.now();
    await expectAuthFailure(
      initProcessGroup({ env: envOf(1, 2, port, 'wrong'), timeoutMs: 10_000 }),
      /refused this client/,
    );
    expect(performance.now() - t0).toBeLessThan(1_500);
    // Rank 0 never sees rank 1 and times out, as with any missing rank.
    expect(await masterDone).toBe('timeout');
  });

  it('the secret option wins over the environment and also secures the transport', async () => {
    const port = await freePort();
    const rejectedByRank1: Error[] = [];
    const gs = await Promise.all(
      [0, 1].map((rank) =>
        initProcessGroup({
          env: envOf(rank, 2, port, rank === 0 ? 'env-a' : 'env-b'),
          secret: 'from the options',
          timeoutMs: 10_000,
          tcp: { onRejectedConnection: (e) => rank === 1 && rejectedByRank1.push(e) },
        }),
      ),
    );
    try {
      const out = await Promise.all(gs.map((g) => g.allGather(Int32Array.of(g.rank))));
      for (const o of out) expect(Array.from(o)).toEqual([0, 1]);
      await expectAuthFailure(
        createTcpStore({ host: '127.0.0.1', port, secret: 'env-a', timeoutMs: 10_000 }),
        /refused this client/,
      );
      // Rank 1's transport listener refuses a stranger's handshake without the secret.
      const addr = JSON.parse(
        new TextDecoder().decode(await gs[0]!.store.get('plexus/pg/tcp/addr/1')),
      ) as { host: string; port: number };
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: addr.port }, () => resolve(s));
        s.on('error', reject);
      });
      const handshake = await connectHandshake(
        socket,
        'stranger',
        { rank: 0, worldSize: 2, connIndex: 0 },
        1,
        undefined,
        5_000,
        { target: () => 'no', frame: () => undefined },
        1024,
      ).then(
        () => 'accepted',
        (e: unknown) => (e as Error).message,
      );
      socket.destroy();
      expect(handshake).toMatch(/refused the connection: authentication failed/);
      expect(rejectedByRank1.at(-1)?.message).toMatch(/authentication failed/);
    } finally {
      await gs[1]!.destroy();
      await gs[0]!.destroy();
    }
  });
});

describe('plexus-run with PLEXUS_COLLECTIVES_SECRET', () => {
  it('the workers inherit the secret: their store refuses clients without it', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(pkg, 'src/launcher/cli.ts'),
        '--nproc',
        '2',
        '--master-port',
        String(port),
        join(pkg, 'test/fixtures/secret-worker.ts'),
      ],
      { cwd: pkg, env: { ...process.env, PLEXUS_COLLECTIVES_SECRET: 'launch secret' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          if ((stdout.match(/ready 3/g) ?? []).length === 2) resolve();
        });
        child.on('close', () => reject(new Error(`plexus-run exited early: ${stdout}${stderr}`)));
      });
      await expectAuthFailure(
        createTcpStore({ host: '127.0.0.1', port, timeoutMs: 10_000 }),
        /requires a shared secret/,
      );
      const store = await createTcpStore({ host: '127.0.0.1', port, secret: 'launch secret' });
      await store.set('probe/done', '1');
      await store.close();
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
