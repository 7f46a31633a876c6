import { afterEach, describe, it } from 'vitest';
import {
  type CollectiveBuffer,
  createTcpStore,
  createTcpTransport,
  createTransportGroup,
  type TcpTransport,
  type TcpTransportOptions,
} from '../src/index.js';
import type { StoreV1 } from '../src/store/types.js';
import { cases, input } from './fixtures/cases.js';
import { expectClose, expected } from './fixtures/reference.js';
import { runBattery } from './fixtures/run-battery.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A TCP store hosted here, and `n` transports (one per rank) over loopback. */
async function tcpWorld(
  n: number,
  extra: Partial<TcpTransportOptions> = {},
): Promise<{ transports: TcpTransport[]; stores: StoreV1[] }> {
  const master = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
  cleanup.push(() => master.close());
  const stores: StoreV1[] = [master];
  for (let r = 1; r < n; r++) {
    const s = await createTcpStore({ host: '127.0.0.1', port: master.server!.port });
    cleanup.push(() => s.close());
    stores.push(s);
  }
  const transports = await Promise.all(
    stores.map((store, rank) =>
      createTcpTransport({ rank, worldSize: n, store, timeoutMs: 10_000, ...extra }),
    ),
  );
  for (const t of transports) cleanup.push(() => t.close());
  return { transports, stores };
}

describe('TCP transport: collectives match a sequential reference', () => {
  // The last world sends its data frames without CRC32.
  const worlds = [
    [1, true],
    [2, true],
    [3, true],
    [4, true],
    [3, false],
  ] as const;
  for (const [worldSize, checksum] of worlds) {
    it(`worldSize ${worldSize}${checksum ? '' : ' without checksums'}: every op, dtype and size`, async () => {
      const seed = 7 + worldSize;
      // Small stripes and frames, so the battery's sizes exercise striping and multi-frame messages.
      const { transports } = await tcpWorld(worldSize, {
        connectionsPerPeer: 3,
        checksum,
        stripeMinBytes: 1024,
        frameBytes: 4096,
      });
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
