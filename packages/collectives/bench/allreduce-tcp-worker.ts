// One rank of the TCP all-reduce benchmark (started by bench/allreduce-tcp.ts
// through plexus-run's `launch`). Prints one `RESULT {...}` line per size on
// rank 0, timed as nccl-tests does it (see timed-all-reduce.ts).
import { initProcessGroup } from '../src/index.js';
import { timeAllReduce } from './timed-all-reduce.js';

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
  const row = await timeAllReduce(g, bytes);
  const nativeIo = 'nativeIo' in g.transport ? g.transport.nativeIo.enabled : false;
  if (g.rank === 0) console.log(`RESULT ${JSON.stringify({ ...row, nativeIo })}`);
}
await g.barrier();
await g.destroy();
