import { describe, expect, it } from 'vitest';
import { uniformTopology } from '../../src/algorithms/topology.js';
import { PlexusCollectivesError } from '../../src/errors.js';
import { createInMemoryNetwork } from '../../src/transport/in-memory.js';

describe('in-memory transport', () => {
  it('delivers in order per pair, copies at send, counts bytes per link and across hosts', async () => {
    const net = createInMemoryNetwork(4, { topology: uniformTopology(4, 2) });
    const [a, b, , d] = net.endpoints;
    const msg = new Uint8Array([1, 2, 3]);
    await a!.send(1, msg);
    msg[0] = 9;
    await a!.send(1, msg);
    await a!.send(3, new Uint8Array(5));
    expect(Array.from(await b!.recv(0))).toEqual([1, 2, 3]);
    const into = new Uint8Array(3);
    expect(await b!.recv(0, into)).toBe(into);
    expect(Array.from(into)).toEqual([9, 2, 3]);
    expect((await d!.recv(0)).byteLength).toBe(5);
    expect(net.stats.bytes[0]![1]).toBe(6);
    expect(net.stats.messages[0]![1]).toBe(2);
    expect(net.stats.intraHostBytes).toBe(6);
    expect(net.stats.interHostBytes).toBe(5);
    expect(net.stats.interHostMessages).toBe(1);
    net.resetStats();
    expect(net.stats.interHostBytes).toBe(0);
  });

  it('recv waits for a later send, also with simulated latency and bandwidth', async () => {
    const net = createInMemoryNetwork(2, {
      topology: uniformTopology(2, 1),
      interHost: { latencyMs: 2, bytesPerMs: 1000 },
    });
    const [a, b] = net.endpoints;
    const pending = b!.recv(0);
    await a!.send(1, new Uint8Array(100).fill(7));
    await a!.send(1, new Uint8Array(1).fill(8));
    expect((await pending)[99]).toBe(7);
    expect((await b!.recv(0))[0]).toBe(8);
  });

  it('rejects on timeout, length mismatch, bad peers and after close', async () => {
    const net = createInMemoryNetwork(2);
    const [a, b] = net.endpoints;
    const err = await b!.recv(0, undefined, { timeoutMs: 5 }).catch((e: unknown) => e);
    expect(PlexusCollectivesError.isInstance(err) && err.code).toBe('timeout');
    await a!.send(1, new Uint8Array(4));
    await expect(b!.recv(0, new Uint8Array(3))).rejects.toThrow(
      /^@plexus\/collectives\/transport\/in-memory: rank 1 expected 3 bytes from rank 0, got 4/,
    );
    await expect(a!.send(0, new Uint8Array(1))).rejects.toThrow(/expected dst to be another rank/);
    await expect(a!.recv(2)).rejects.toThrow(/expected src/);
    const waiting = a!.recv(1);
    await a!.close();
    await expect(waiting).rejects.toThrow(/closed/);
    expect(() => createInMemoryNetwork(0)).toThrow(/positive integer/);
    expect(() => createInMemoryNetwork(2, { interHost: { bytesPerMs: 0 } })).toThrow(
      /bytesPerMs > 0/,
    );
  });
});

describe('in-memory transport, virtual clock', () => {
  it('advances simulated time by link time and latency, queueing messages on a shared link', async () => {
    const net = createInMemoryNetwork(3, {
      topology: { hostOf: [0, 1, 1] },
      interHost: { latencyMs: 1, bytesPerMs: 1000, perMessageMs: 0.5 },
      clock: 'virtual',
    });
    const [a, b, c] = net.endpoints;
    // Two messages issued together share the host 0 -> host 1 link: the second waits for the first.
    await Promise.all([a!.send(1, new Uint8Array(1000)), a!.send(2, new Uint8Array(1000))]);
    await b!.recv(0);
    await c!.recv(0);
    // First: leaves at 1.5 (0.5 + 1000 / 1000), arrives 2.5; second: leaves at 3, arrives 4.
    expect(net.virtualTimeMs()).toBe(4);
    // Intra-host links are free here: rank 1 -> 2 adds nothing.
    await b!.send(2, new Uint8Array(10));
    await c!.recv(1);
    expect(net.virtualTimeMs()).toBe(4);
    expect(() => createInMemoryNetwork(2, { clock: 'real' as 'wall' })).toThrow(/expected clock/);
  });
});
