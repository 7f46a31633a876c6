// Bytes and messages across a simulated inter-host link: flat ring vs
// HO-Ring all-reduce, flat vs hierarchical (HetuMoE) all-to-all, on the
// in-memory transport. Counters are exact; simulated times come from the
// transport's virtual clock under a link model (latency, per-message cost
// and bandwidth per link; one shared link per host pair and direction) and
// cover communication only. Nothing here is asserted.
//   npx tsx bench/topology.ts [--quick]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { allReduce, allToAll } from '../src/algorithms/collectives.js';
import { type Topology, uniformTopology } from '../src/algorithms/topology.js';
import { createCompressedAllReducer } from '../src/compression/compressed-all-reduce.js';
import { createInMemoryNetwork, type LinkModel } from '../src/transport/in-memory.js';

const quick = process.argv.includes('--quick');
const MIB = 1 << 20;
// Inter-host: 10 GbE-like (1.25 GB/s, 20 us latency, 5 us per message).
// Intra-host: 10x the bandwidth (shared memory / NVLink-like), 2 us, 1 us.
const interHost: LinkModel = { latencyMs: 0.02, perMessageMs: 0.005, bytesPerMs: 1_250_000 };
const intraHost: LinkModel = { latencyMs: 0.002, perMessageMs: 0.001, bytesPerMs: 12_500_000 };

async function run(
  worldSize: number,
  topology: Topology,
  simulate: boolean,
  body: (p2p: Parameters<typeof allReduce>[0], rank: number) => Promise<unknown>,
) {
  const net = createInMemoryNetwork(worldSize, {
    topology,
    clock: 'virtual',
    ...(simulate ? { interHost, intraHost } : {}),
  });
  await Promise.all(net.endpoints.map((p2p, r) => body(p2p, r)));
  return {
    interHostBytes: net.stats.interHostBytes,
    interHostMessages: net.stats.interHostMessages,
    intraHostBytes: net.stats.intraHostBytes,
    ms: +net.virtualTimeMs().toFixed(4),
  };
}

const allReduceRows: Record<string, unknown>[] = [];
const layouts = quick
  ? [[2, 4]]
  : [
      [2, 2],
      [2, 4],
      [4, 2],
      [2, 3],
    ];
const sizes = quick ? [1] : [1, 16];
for (const [hosts, perHost] of layouts) {
  const p = hosts! * perHost!;
  const topology = uniformTopology(p, perHost!);
  for (const mib of sizes) {
    const n = (mib * MIB) / 4;
    const row: Record<string, unknown> = { hosts, ranksPerHost: perHost, worldSize: p, mib };
    for (const algorithm of ['ring', 'ho-ring'] as const) {
      const counted = await run(p, topology, false, (p2p, r) =>
        allReduce(p2p, new Float32Array(n).fill(r), 'sum', { algorithm, topology }),
      );
      const timed = await run(p, topology, true, (p2p, r) =>
        allReduce(p2p, new Float32Array(n).fill(r), 'sum', { algorithm, topology }),
      );
      row[algorithm] = {
        interHostBytes: counted.interHostBytes,
        interHostBytesOverBuffer: +(counted.interHostBytes / (n * 4)).toFixed(3),
        interHostMessages: counted.interHostMessages,
        intraHostBytes: counted.intraHostBytes,
        simulatedMs: timed.ms,
      };
    }
    const ring = row.ring as { interHostBytes: number; simulatedMs: number };
    const ho = row['ho-ring'] as { interHostBytes: number; simulatedMs: number };
    row.interHostBytesRingOverHoRing = +(ring.interHostBytes / ho.interHostBytes).toFixed(3);
    row.simulatedSpeedupHoRing = +(ring.simulatedMs / ho.simulatedMs).toFixed(3);
    allReduceRows.push(row);
    console.log(JSON.stringify(row));
  }
}

// Which all-reduce wins at which size: the data behind SMALL_ALL_REDUCE_BYTES.
const bySizeRows: Record<string, unknown>[] = [];
for (const [hosts, perHost] of quick
  ? [[1, 8]]
  : [
      [1, 8],
      [2, 4],
    ]) {
  const p = hosts! * perHost!;
  const topology = uniformTopology(p, perHost!);
  for (const bytes of quick ? [4096] : [1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]) {
    const n = bytes / 4;
    const row: Record<string, unknown> = { hosts, ranksPerHost: perHost, worldSize: p, bytes };
    let best = '';
    let bestMs = Number.POSITIVE_INFINITY;
    for (const algorithm of ['ring', 'halving-doubling', 'tree', 'ho-ring'] as const) {
      if (algorithm === 'ho-ring' && hosts === 1) continue;
      const timed = await run(p, topology, true, (p2p, r) =>
        allReduce(p2p, new Float32Array(n).fill(r), 'sum', { algorithm, topology }),
      );
      row[algorithm] = timed.ms;
      if (timed.ms < bestMs) {
        bestMs = timed.ms;
        best = algorithm;
      }
    }
    row.fastest = best;
    bySizeRows.push(row);
    console.log(JSON.stringify(row));
  }
}

const allToAllRows: Record<string, unknown>[] = [];
for (const [hosts, perHost] of quick
  ? [[2, 4]]
  : [
      [2, 4],
      [4, 2],
      [2, 8],
    ]) {
  const p = hosts! * perHost!;
  const topology = uniformTopology(p, perHost!);
  for (const chunkBytes of quick ? [256] : [256, 4 * 1024, 64 * 1024, 1024 * 1024]) {
    const n = (chunkBytes / 4) * p;
    const row: Record<string, unknown> = { hosts, ranksPerHost: perHost, worldSize: p, chunkBytes };
    for (const algorithm of ['flat', 'hierarchical'] as const) {
      const counted = await run(p, topology, false, (p2p, r) =>
        allToAll(p2p, new Float32Array(n).fill(r), { algorithm, topology }),
      );
      const timed = await run(p, topology, true, (p2p, r) =>
        allToAll(p2p, new Float32Array(n).fill(r), { algorithm, topology }),
      );
      row[algorithm] = { ...counted, ms: undefined, simulatedMs: timed.ms };
    }
    const flat = row.flat as { simulatedMs: number };
    const hier = row.hierarchical as { simulatedMs: number };
    row.simulatedSpeedupHierarchical = +(flat.simulatedMs / hier.simulatedMs).toFixed(3);
    allToAllRows.push(row);
    console.log(JSON.stringify(row));
  }
}

// Compressed all-reduce (all-to-all + all-gather of encoded chunks) beside the float32 ring.
const compressedRows: Record<string, unknown>[] = [];
{
  const p = 8;
  const topology = uniformTopology(p, 4);
  const n = ((quick ? 1 : 4) * MIB) / 4;
  const row: Record<string, unknown> = {
    hosts: 2,
    ranksPerHost: 4,
    worldSize: p,
    mib: (n * 4) / MIB,
  };
  const ring = await run(p, topology, true, (p2p, r) =>
    allReduce(p2p, new Float32Array(n).fill(r), 'sum', { algorithm: 'ring' }),
  );
  row.ringFloat32 = { interHostBytes: ring.interHostBytes, simulatedMs: ring.ms };
  for (const codec of ['fp16', 'bf16', 'int8'] as const) {
    const reducers = Array.from({ length: p }, () => createCompressedAllReducer({ codec }));
    const c = await run(p, topology, true, (p2p, r) =>
      reducers[r]!.allReduce(p2p, new Float32Array(n).fill(r * 0.1), 'sum'),
    );
    row[codec] = { interHostBytes: c.interHostBytes, simulatedMs: c.ms };
  }
  compressedRows.push(row);
  console.log(JSON.stringify(row));
}

const out = {
  benchmark: 'inter-host traffic on a simulated multi-host topology (in-memory transport)',
  linkModel: { interHost, intraHost, interHostLink: 'one shared link per host pair and direction' },
  note: 'Byte and message counts are exact. simulatedMs is the virtual-clock time of the collective under the link model (communication only; reductions take no simulated time). Ring ranks are host-contiguous, so a flat ring crosses each host boundary once per direction. HO-Ring uses its default 4 pipeline chunks.',
  node: process.version,
  loadAverage: loadavg(),
  date: new Date().toISOString(),
  quick,
  allReduce: allReduceRows,
  allReduceBySizeSimulatedMs: bySizeRows,
  allToAll: allToAllRows,
  compressedAllReduce: compressedRows,
};
if (!quick) {
  writeFileSync(
    new URL('./results/topology.json', import.meta.url),
    `${JSON.stringify(out, null, 2)}\n`,
  );
}
