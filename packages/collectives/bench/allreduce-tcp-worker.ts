// One rank of the TCP all-reduce benchmark (started by bench/allreduce-tcp.ts
// through plexus-run's `launch`). Prints one `RESULT {...}` line per size on rank 0.
//
// Timing as nccl-tests' all_reduce_perf does it: after a barrier each rank
// times `iters` back-to-back all-reduces and divides by `iters`, and the ranks'
// figures are averaged. That is repeated `LOOPS` times (one sample each). The
// slowest rank's time of each single iteration is kept beside it (`slowestMs`),
// the stricter figure earlier versions of this benchmark reported.
import { initProcessGroup } from '../src/index.js';

const LOOPS = 3;
const sizes = JSON.parse(process.argv[2] ?? '[]') as number[];
// A number, or 'default' for the transport's own choice.
const connections = process.argv[3] ?? 'default';
const connectionsPerPeer = connections === 'default' ? undefined : Number(connections);
const checksum = process.argv[4] !== 'no-checksum';
// Ring chunk size (bytes) where PLEXUS_BENCH_CHUNK_BYTES sets one, else the library's default.
const chunkBytes = process.env.PLEXUS_BENCH_CHUNK_BYTES
  ? Number(process.env.PLEXUS_BENCH_CHUNK_BYTES)
  : undefined;
const g = await initProcessGroup({
  timeoutMs: 120_000,
  tcp: { ...(connectionsPerPeer === undefined ? {} : { connectionsPerPeer }), checksum },
  ...(chunkBytes === undefined ? {} : { collectives: { chunkBytes } }),
});

for (const bytes of sizes) {
  const buf = new Float32Array(bytes / 4).fill(1);
  const iters = bytes >= 16 << 20 ? 10 : bytes >= 1 << 20 ? 20 : 50;
  await g.allReduce(buf, 'sum'); // warm-up: JIT, buffers, TCP windows
  const loopMs = new Float64Array(LOOPS);
  const perIter = new Float64Array(LOOPS * iters);
  // Each all-reduce multiplies the ones by n: exact in float32 while n is a power of two.
  const expected = g.worldSize ** iters;
  const exact = expected < 2 ** 24 || Number.isInteger(Math.log2(g.worldSize));
  for (let loop = 0; loop < LOOPS; loop++) {
    buf.fill(1);
    await g.barrier();
    const start = performance.now();
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      await g.allReduce(buf, 'sum');
      perIter[loop * iters + i] = performance.now() - t0;
    }
    loopMs[loop] = (performance.now() - start) / iters;
    if (exact && buf[0] !== expected) {
      throw new Error(`wrong result ${buf[0]}, expected ${expected}`);
    }
  }
  const meanOverRanks = await g.allReduce(loopMs, 'avg');
  const slowest = await g.allReduce(perIter, 'max');
  if (g.rank === 0)
    console.log(
      `RESULT ${JSON.stringify({ bytes, iters, ms: Array.from(meanOverRanks), slowestMs: Array.from(slowest), nativeIo: 'nativeIo' in g.transport ? g.transport.nativeIo.enabled : false })}`,
    );
}
await g.barrier();
await g.destroy();
