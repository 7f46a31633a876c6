import { afterEach, describe, expect, it } from 'vitest';
import { ringAllReduce } from '../src/algorithms/ring.js';
import { ringSchedule } from '../src/algorithms/ring-schedule.js';
import type { TcpTransport, TcpTransportOptions } from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import type { ElementArray } from '../src/reduction/dtype.js';
import type { RingAllReduceOffloadV1 } from '../src/transport/point-to-point.js';
import { RING_RECV_ROW, RING_SEND_ROW } from '../src/transport/tcp/native-peer.js';
import type { ReduceOp } from '../src/types.js';
import { tcpWorld } from './fixtures/tcp-world.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

const world = (n: number, perRank?: (rank: number) => Partial<TcpTransportOptions>) =>
  tcpWorld(n, cleanup, perRank);
const built = loadNativeAddon().native !== undefined;

type Ctor = { new (n: number): ElementArray; name: string };
const CTORS: Ctor[] = [Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array];

/** Rank `rank`'s input: seeded, small integers (exact sums) for integers, any floats for floats. */
function input(Ctor: Ctor, length: number, rank: number): ElementArray {
  const out = new Ctor(length);
  let x = (rank + 1) * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const v = (x >>> 8) % 200;
    if (out instanceof BigInt64Array) out[i] = BigInt(v) - 100n;
    else if (out instanceof Uint8Array) out[i] = v;
    else if (out instanceof Int32Array) out[i] = v - 100;
    else (out as Float64Array)[i] = (v - 100) / 7;
  }
  return out;
}

/** Byte equality of two arrays of the same type. */
function expectSameBits(got: ElementArray, want: ElementArray): void {
  const g = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
  const w = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
  expect(Buffer.compare(g, w)).toBe(0);
}

const offload = (t: TcpTransport) => t as unknown as RingAllReduceOffloadV1;

/** Records, per rank, whether its last ring all-reduce ran in the engine. */
function spyOffload(ts: TcpTransport[]): boolean[] {
  const offloaded: boolean[] = [];
  ts.forEach((t, r) => {
    const o = offload(t);
    const run = o.offloadRingAllReduce.bind(o);
    o.offloadRingAllReduce = (...args) => {
      const running = run(...args);
      offloaded[r] = running !== undefined;
      return running;
    };
  });
  return offloaded;
}

/** Every rank's result of the ring all-reduce of `inputs` on `ts`. */
async function runRing(
  ts: TcpTransport[],
  inputs: ElementArray[],
  op: ReduceOp,
  chunkBytes: number,
): Promise<ElementArray[]> {
  const bufs = inputs.map((b) => b.slice());
  await Promise.all(ts.map((t, r) => ringAllReduce(t, bufs[r]!, op, { chunkBytes })));
  return bufs;
}

describe.skipIf(!built)('ring all-reduce in the native I/O threads', () => {
  it('gives the JavaScript ring bit for bit: every dtype and op, world sizes 2 to 5, many chunks', async () => {
    for (const n of [2, 3, 4, 5]) {
      const native = await world(n);
      const offloaded = spyOffload(native);
      const js = await world(n, () => ({ nativeRing: false }));
      const neverOffloaded = spyOffload(js);
      for (const Ctor of CTORS) {
        const ops: ReduceOp[] =
          Ctor === Uint8Array ? ['sum', 'max'] : ['sum', 'avg', 'min', 'max', 'prod'];
        for (const op of ops) {
          // 4 chunks per block plus a short one; 1024 bytes per chunk.
          const length = n * Math.floor((4.5 * 1024) / new Ctor(0).BYTES_PER_ELEMENT);
          const chunkBytes = 1024;
          const inputs = native.map((_, r) => input(Ctor, length, r));
          const a = await runRing(native, inputs, op, chunkBytes);
          const b = await runRing(js, inputs, op, chunkBytes);
          expect(offloaded).toEqual(Array(n).fill(true));
          expect(neverOffloaded).toEqual(Array(n).fill(false));
          for (let r = 0; r < n; r++) {
            expectSameBits(a[r]!, b[r]!);
            expectSameBits(a[r]!, a[0]!);
          }
        }
      }
    }
  });

  it('sums against a sequential reference, and hands the whole ring to the engine', async () => {
    const n = 4;
    const ts = await world(n);
    const length = 3 * 1000 * n + n; // blocks of 3001 elements: 12 chunks of 1000 B and a short one
    const inputs = ts.map((_, r) => input(Int32Array, length, r) as Int32Array);
    const want = new Int32Array(length);
    for (const x of inputs) for (let i = 0; i < length; i++) want[i] = want[i]! + x[i]!;
    const bufs = inputs.map((b) => b.slice());
    const runs = ts.map((t, r) =>
      offload(t).offloadRingAllReduce(bufs[r]!, 'sum', { chunkBytes: 1000 }),
    );
    for (const run of runs) expect(run).toBeInstanceOf(Promise);
    await Promise.all(runs);
    for (const b of bufs) expectSameBits(b, want);
  });

  it('reduces chunks whose frames split elements, and chunks that arrived before the call', async () => {
    const n = 3;
    // 1001-byte frames over 3 connections: element boundaries fall inside frames.
    const odd = await world(n, () => ({
      frameBytes: 1001,
      stripeMinBytes: 512,
      connectionsPerPeer: 3,
    }));
    const offloaded = spyOffload(odd);
    const js = await world(n, () => ({ nativeRing: false }));
    for (const Ctor of [Float64Array, Int32Array, BigInt64Array]) {
      const inputs = odd.map((_, r) => input(Ctor, n * 3000, r));
      const want = await runRing(js, inputs, 'sum', 8000);
      const bufs = inputs.map((b) => b.slice());
      // Rank 2 joins late: its neighbours' first chunks are already waiting for it.
      await Promise.all(
        odd.map(async (t, r) => {
          if (r === 2) await new Promise((resolve) => setTimeout(resolve, 30));
          await ringAllReduce(t, bufs[r]!, 'sum', { chunkBytes: 8000 });
        }),
      );
      expect(offloaded).toEqual([true, true, true]);
      for (let r = 0; r < n; r++) expectSameBits(bufs[r]!, want[r]!);
    }
  });

  it('interoperates with ranks that run the JavaScript ring or JavaScript sockets', async () => {
    const n = 4;
    const ts = await world(n, (rank) =>
      rank === 1 ? { nativeRing: false } : rank === 2 ? { nativeIo: false } : {},
    );
    const length = n * 5000;
    const inputs = ts.map((_, r) => input(Float64Array, length, r));
    const want = await runRing(await world(n, () => ({ nativeRing: false })), inputs, 'sum', 4096);
    const offloaded = spyOffload(ts);
    const got = await runRing(ts, inputs, 'sum', 4096);
    for (let r = 0; r < n; r++) expectSameBits(got[r]!, want[r]!);
    // Ranks 0 and 3 drive natively connected neighbours; rank 1 keeps the
    // JavaScript ring and rank 2 JavaScript sockets.
    expect(offloaded).toEqual([true, false, false, true]);
  });

  it('runs many all-reduces back to back (message numbering stays in step), mixed with plain messages', async () => {
    const n = 3;
    const ts = await world(n);
    for (let k = 0; k < 20; k++) {
      const length = n * (100 + 37 * k);
      const inputs = ts.map((_, r) => input(Float32Array, length, r + k));
      const want = await runRing(ts, inputs, 'max', 256);
      const ref = new Float32Array(length).fill(Number.NEGATIVE_INFINITY);
      for (const x of inputs)
        for (let i = 0; i < length; i++) ref[i] = Math.max(ref[i]!, x[i] as number);
      for (const w of want) expectSameBits(w, ref);
      // A plain message between the collectives uses the next numbers on the same peers.
      const into = new Uint8Array(3);
      await Promise.all([ts[0]!.send(1, new Uint8Array([k, 1, 2])), ts[1]!.recv(0, into)]);
      expect([...into]).toEqual([k, 1, 2]);
    }
  });

  it('is not used where blocks would differ in chunk count, or the buffer is shorter than the world', () => {
    expect(ringSchedule(0, 4, 3, 4, 1, 'sum')).toBeUndefined();
    expect(ringSchedule(0, 4, 4 * 10 + 1, 4, 10, 'sum')).toBeUndefined();
    const plan = ringSchedule(1, 4, 4 * 10, 4, 5, 'avg')!;
    // 2 chunks per block, 3 steps each way: 12 receives and 12 sends.
    expect(plan.recvs.length / RING_RECV_ROW).toBe(12);
    expect(plan.sends.length / RING_SEND_ROW).toBe(12);
    // Rank 1 starts with block 0 and first receives block 3 (elements 30..39), summed, to send on as send 2.
    expect([...plan.sends.subarray(0, 6)]).toEqual([0, 20, 1, 20, 20, 1]);
    expect([...plan.recvs.subarray(0, RING_RECV_ROW)]).toEqual([1, 120, 20, 0, 0, 2]);
    // The last reduce-scatter step averages (op 4, divided by 4); the last all-gather step forwards nothing.
    expect([...plan.recvs.subarray(4 * RING_RECV_ROW, 5 * RING_RECV_ROW)]).toEqual([
      1, 40, 20, 4, 4, 6,
    ]);
    expect(plan.recvs[12 * RING_RECV_ROW - 1]).toBe(-1);
  });

  it('fails on every survivor with a typed error when a rank closes mid-ring, and when one never joins', async () => {
    const n = 4;
    const ts = await world(n, () => ({ timeoutMs: 2_000 }));
    const length = n * (1 << 18);
    const bufs = ts.map((_, r) => input(Float32Array, length, r));
    const started = performance.now();
    const runs = [0, 1, 2].map((r) =>
      ringAllReduce(ts[r]!, bufs[r]!, 'sum', { chunkBytes: 64 << 10 }).then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      ),
    );
    // Rank 3 never takes part and closes: its neighbours see the connection go.
    setTimeout(() => void ts[3]!.close(), 50);
    const codes = await Promise.all(runs);
    expect(performance.now() - started).toBeLessThan(2_000 + 1_000);
    for (const c of codes) expect(['broken', 'timeout']).toContain(c);
    expect(codes.filter((c) => c === 'broken').length).toBeGreaterThanOrEqual(2);
  });

  it('without a call timeout, fails only once no message has finished for the transport timeout', async () => {
    const ts = await world(3, () => ({ timeoutMs: 300 }));
    // Rank 2 never calls: ranks 0 and 1 stall and time out, saying why.
    const t0 = performance.now();
    const stalled = await Promise.all(
      [0, 1].map((r) =>
        ringAllReduce(ts[r]!, input(Float64Array, 3 * 1000, r), 'sum', { chunkBytes: 1024 }).then(
          () => undefined,
          (e: { code?: string; message: string }) => e,
        ),
      ),
    );
    expect(performance.now() - t0).toBeLessThan(3_000);
    const codes = stalled.map((e) => e?.code);
    expect(codes).toContain('timeout');
    for (const c of codes) expect(['broken', 'timeout']).toContain(c);
    expect(stalled.find((e) => e?.code === 'timeout')!.message).toMatch(
      /no message of it finished for 300 ms/,
    );

    // One that keeps finishing messages may take far longer than that.
    // (About 170-200 ms here, in thousands of 8 KiB messages.)
    const busy = await world(3, () => ({ timeoutMs: 60 }));
    const length = 3 * (4 << 20);
    const inputs = busy.map((_, r) => input(Int32Array, length, r));
    const start = performance.now();
    const got = await runRing(busy, inputs, 'sum', 8 << 10);
    expect(performance.now() - start).toBeGreaterThan(60);
    const want = new Int32Array(length);
    for (const x of inputs) for (let i = 0; i < length; i++) want[i] = want[i]! + (x[i] as number);
    for (const g of got) expectSameBits(g, want);
  });

  it('a Worker terminated in the middle of a ring all-reduce does not take the process down', async () => {
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(new URL('./fixtures/ring-teardown-entry.mjs', import.meta.url));
    const first = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(first).toBe('running');
    await worker.terminate();
    // Still here: and the engine still works in this thread.
    const ts = await world(3);
    const got = await runRing(
      ts,
      ts.map((_, r) => input(Int32Array, 3 * 100, r)),
      'max',
      64,
    );
    expectSameBits(got[0]!, got[2]!);
  }, 30_000);

  it('a rank that never calls times out with a typed error within the call timeout', async () => {
    const ts = await world(3);
    const bufs = ts.map((_, r) => input(Float64Array, 3 * 1000, r));
    const t0 = performance.now();
    const codes = await Promise.all(
      [0, 1].map((r) =>
        ringAllReduce(ts[r]!, bufs[r]!, 'sum', { chunkBytes: 1024, timeoutMs: 300 }).then(
          () => 'resolved',
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(codes).toContain('timeout');
    for (const c of codes) expect(['broken', 'timeout']).toContain(c);
  });
});
