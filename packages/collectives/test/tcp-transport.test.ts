import { afterEach, describe, expect, it } from 'vitest';
import {
  type CollectiveBuffer,
  createTcpStore,
  createTcpTransport,
  createTransportGroup,
  type TcpTransportOptions,
} from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { isLoopback } from '../src/transport/tcp/tcp-transport.js';
import { cases, input } from './fixtures/cases.js';
import { expectClose, expected } from './fixtures/reference.js';
import { runBattery } from './fixtures/run-battery.js';
import { tcpWorld as makeTcpWorld } from './fixtures/tcp-world.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** `n` transports (one per rank) over loopback, with a store hosted here. */
const tcpWorld = (
  n: number,
  extra: Partial<TcpTransportOptions>,
  perRank: (rank: number) => Partial<TcpTransportOptions>,
) => makeTcpWorld(n, cleanup, (rank) => ({ timeoutMs: 10_000, ...extra, ...perRank(rank) }));

const nativeBuilt = loadNativeAddon().native !== undefined;

describe('TCP transport: collectives match a sequential reference', () => {
  // Data path per world: the native I/O threads where the addon is built
  // ('native'), JavaScript sockets ('js'), or rank 1 on JavaScript and the
  // rest native ('mixed': the two speak one wire format). One world sends its
  // data frames without CRC32.
  const worlds = [
    [1, true, 'native'],
    [2, true, 'native'],
    [3, true, 'native'],
    [4, true, 'native'],
    [3, false, 'native'],
    [2, true, 'js'],
    [3, false, 'js'],
    [3, true, 'mixed'],
  ] as const;
  for (const [worldSize, checksum, path] of worlds) {
    it(`worldSize ${worldSize}${checksum ? '' : ' without checksums'}, ${path} I/O: every op, dtype and size`, async () => {
      const seed = 7 + worldSize;
      // Small stripes and frames, so the battery's sizes exercise striping and multi-frame messages.
      const transports = await tcpWorld(
        worldSize,
        { connectionsPerPeer: 3, checksum, stripeMinBytes: 1024, frameBytes: 4096 },
        (rank) => ({ nativeIo: path === 'native' || (path === 'mixed' && rank !== 1) }),
      );
      for (const t of transports) {
        const wantNative =
          nativeBuilt && worldSize > 1 && (path === 'native' || (path === 'mixed' && t.rank !== 1));
        expect(t.nativeIo.enabled).toBe(wantNative);
      }
      const perRank = await Promise.all(
        transports.map((t) => runBattery(createTransportGroup(t, { timeoutMs: 10_000 }), seed)),
      );
      for (const c of cases()) {
        const inputs: CollectiveBuffer[] = Array.from({ length: worldSize }, (_, r) =>
          input(c, r, worldSize, seed),
        );
        for (let r = 0; r < worldSize; r++)
          expectClose(perRank[r]![c.id]!, expected(c, r, inputs), c, r);
      }
    }, 20_000);
  }
});

describe('TCP transport: connections per peer', () => {
  it('defaults to one connection on a loopback address, and refuses ranks that disagree', async () => {
    const master = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
    cleanup.push(() => master.close());
    const other = await createTcpStore({ host: '127.0.0.1', port: master.server!.port });
    cleanup.push(() => other.close());
    const ts = await Promise.all(
      [master, other].map((store, rank) => createTcpTransport({ rank, worldSize: 2, store })),
    );
    for (const t of ts) cleanup.push(() => t.close());
    const record = JSON.parse(new TextDecoder().decode(await master.get('plexus/tcp/addr/1')));
    expect(record).toMatchObject({ host: '127.0.0.1', connections: 1 });

    const refused = await Promise.allSettled(
      [master, other].map((store, rank) =>
        createTcpTransport({
          rank,
          worldSize: 2,
          store,
          prefix: 'mismatch',
          connectionsPerPeer: rank + 1,
          timeoutMs: 5_000,
        }),
      ),
    );
    for (const r of refused) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason;
      expect(error).toMatchObject({ code: 'invalid-argument' });
      expect(error.message).toMatch(/same connectionsPerPeer/);
    }
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopback(h)).toBe(true);
    for (const h of ['10.0.0.1', '192.168.1.7', '::', 'fe80::1', '0.0.0.0', '128.0.0.1'])
      expect(isLoopback(h)).toBe(false);
  });
});
