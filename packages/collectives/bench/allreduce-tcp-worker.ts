// One rank of the TCP all-reduce benchmark (started by bench/allreduce-tcp.ts
// through plexus-run's `launch`). Prints one `RESULT {...}` line per size on rank 0.
import { initProcessGroup } from '../src/index.js';

const sizes = JSON.parse(process.argv[2] ?? '[]') as number[];
const connectionsPerPeer = Number(process.argv[3] ?? '2');
const checksum = process.argv[4] !== 'no-checksum';
const g = await initProcessGroup({ timeoutMs: 120_000, tcp: { connectionsPerPeer, checksum } });

for (const bytes of sizes) {
  const buf = new Float32Array(bytes / 4).fill(1);
  const iters = bytes >= 16 << 20 ? 10 : bytes >= 1 << 20 ? 20 : 50;
  await g.allReduce(buf, 'sum'); // warm-up: JIT, buffers, TCP windows
  await g.barrier();
  const perIter = new Float64Array(iters);
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await g.allReduce(buf, 'sum');
    perIter[i] = performance.now() - t0;
  }
  // nccl-tests report the slowest rank's time.
  const slowest = await g.allReduce(perIter, 'max');
  const expected = g.worldSize ** (iters + 1);
  if (buf[0] !== expected && expected < 2 ** 24) {
    throw new Error(`wrong result ${buf[0]}, expected ${expected}`);
  }
  if (g.rank === 0)
    console.log(
      `RESULT ${JSON.stringify({ bytes, iters, ms: Array.from(slowest), nativeIo: 'nativeIo' in g.transport ? g.transport.nativeIo.enabled : false })}`,
    );
}
await g.barrier();
await g.destroy();
