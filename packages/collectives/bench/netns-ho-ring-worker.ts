// One rank of bench/netns-ho-ring.ts, started inside a network-namespace
// host. For each size, alternates ring and HO-Ring all-reduces (float32
// sum) iteration by iteration, so both see the same load, and prints one
// `RESULT {...}` line per size and algorithm on rank 0 with the slowest
// rank's time per iteration and the bytes its host's eth0 sent during one
// all-reduce (read from this namespace's /sys by local rank 0).
import { readFileSync } from 'node:fs';
import {
  type AllReduceAlgorithm,
  allReduce,
  initProcessGroup,
  type Topology,
} from '../src/index.js';

const sizes = JSON.parse(process.argv[2] ?? '[]') as number[];
const topology: Topology = { hostOf: JSON.parse(process.argv[3] ?? '[]') as number[] };
const algorithms: AllReduceAlgorithm[] = ['ring', 'ho-ring'];
const pg = await initProcessGroup({ timeoutMs: 300_000 });
const localRank = Number(process.env.LOCAL_RANK ?? '0');
const txBytes = () => Number(readFileSync('/sys/class/net/eth0/statistics/tx_bytes', 'utf8'));

for (const bytes of sizes) {
  const buf = new Float32Array(bytes / 4);
  const iters = bytes >= 64 << 20 ? 3 : bytes >= 16 << 20 ? 4 : bytes >= 4 << 20 ? 6 : 10;
  const perIter = algorithms.map(() => new Float64Array(iters));
  const hostTx = new Float64Array(algorithms.length);
  for (const [a, algorithm] of algorithms.entries()) {
    // Warm-up (JIT, TCP windows), counting what left this host.
    buf.fill(1);
    // Read before the barrier: once out of it, the other local rank may already be sending.
    const tx0 = txBytes();
    await pg.barrier();
    await allReduce(pg.transport, buf, 'sum', { algorithm, topology });
    await pg.barrier();
    if (localRank === 0) hostTx[a] = txBytes() - tx0;
    if (buf[0] !== pg.worldSize)
      throw new Error(`${algorithm}: got ${buf[0]}, expected ${pg.worldSize}`);
  }
  for (let i = 0; i < iters; i++) {
    for (const [a, algorithm] of algorithms.entries()) {
      buf.fill(1);
      await pg.barrier();
      const t0 = performance.now();
      await allReduce(pg.transport, buf, 'sum', { algorithm, topology });
      perIter[a]![i] = performance.now() - t0;
    }
  }
  for (const [a, algorithm] of algorithms.entries()) {
    // nccl-tests report the slowest rank's time.
    const slowest = await pg.allReduce(perIter[a]!, 'max');
    const tx = await pg.allReduce(hostTx.slice(a, a + 1), 'max');
    if (pg.rank === 0) {
      console.log(
        `RESULT ${JSON.stringify({ algorithm, bytes, iters, ms: Array.from(slowest), hostTxBytes: tx[0] })}`,
      );
    }
  }
}
await pg.barrier();
await pg.destroy();
