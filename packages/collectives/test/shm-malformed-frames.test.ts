import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createShmTransport, createTcpStore, PlexusCollectivesError } from '../src/index.js';
import {
  connectControl,
  controlPath,
  encodeFrame,
  FrameType,
} from '../src/transport/shm/control.js';
import { createSegment, segmentPath } from '../src/transport/shm/segment.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/**
 * Rank 0 is a real shared-memory transport; rank 1 is this test, speaking
 * the control protocol by hand (its segment is a plain file), so it can
 * send what no honest rank would.
 */
async function fakeRankOne(slotBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-shm-malformed-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await createTcpStore({ host: '127.0.0.1', port: 0, isMaster: true });
  cleanup.push(() => store.close());
  const pending = createShmTransport({
    rank: 0,
    worldSize: 2,
    store,
    dir,
    slotBytes,
    zeroCopy: false,
    timeoutMs: 5_000,
  });
  const id = new TextDecoder().decode(await store.get('plexus/shm/id', { timeoutMs: 5_000 }));
  createSegment(segmentPath(dir, id, 1, 0), 2 * slotBytes);
  const socket = await connectControl(controlPath(dir, id, 0), performance.now() + 5_000);
  cleanup.push(() => void socket.destroy());
  socket.write(encodeFrame(FrameType.Hello, 0, 0, 1));
  socket.write(encodeFrame(FrameType.Ready, 0, 0, 1));
  const t0 = await pending;
  cleanup.push(() => t0.close());
  return { t0, socket };
}

describe('a shared-memory peer that sends malformed chunk frames', () => {
  const cases: [string, number, number, number][] = [
    ['a negative message length', 0, 16, -5],
    ['a message length that is not a number', 0, 16, Number.NaN],
    ['a message length past what any array can hold', 0, 16, 2 ** 52],
    ['a chunk larger than a slot', 0, 1 << 20, 64],
    ['a slot that does not exist', 7, 16, 64],
  ];
  for (const [name, slot, length, value] of cases) {
    it(`${name}: receives from it reject as broken, the process keeps running`, async () => {
      const { t0, socket } = await fakeRankOne(4096);
      const got = t0.recv(1).catch((e: unknown) => e);
      socket.write(encodeFrame(FrameType.Full, slot, length, value));
      const error = await got;
      expect(PlexusCollectivesError.isInstance(error)).toBe(true);
      expect((error as PlexusCollectivesError).code).toBe('broken');
      expect((error as Error).message).toMatch(/malformed chunk frame|cannot hold a message/);
    });
  }
});
