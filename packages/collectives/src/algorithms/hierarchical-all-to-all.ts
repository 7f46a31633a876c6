import { PlexusCollectivesError } from '../errors.js';
import { bytesOf, checkElementArray, type ElementArray, like, slice } from '../reduction/dtype.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { AllToAllVResult } from './all-to-all.js';
import { type AlgorithmOptions, Link } from './context.js';
import { checkSplitCounts, equalCounts, packParts, unpackParts } from './split-counts.js';
import { hostsOf, type Topology } from './topology.js';

const MODULE = 'algorithms/hierarchical-all-to-all';

/**
 * Hierarchical all-to-all with variable splits, after "HetuMoE: An
 * Efficient Trillion-scale Mixture-of-Expert Distributed Training System"
 * (Nie et al., 2022): (1) every rank hands its whole send buffer to its
 * host's leader (the host's lowest rank); (2) the leaders run one
 * all-to-all among themselves, one message per host pair carrying
 * everything from one host to the other; (3) each leader scatters to its
 * ranks what they receive. The bytes that cross hosts are the same as a flat
 * all-to-all, but the number of inter-host messages drops from
 * `sum_h L_h (p - L_h)` to `H (H - 1)`, which is what pays on small
 * per-destination chunks (MoE token dispatch). Results equal `allToAllV`.
 */
export async function hierarchicalAllToAllV<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  sendCounts: readonly number[],
  topology: Topology,
  options: AlgorithmOptions = {},
): Promise<AllToAllVResult<T>> {
  checkElementArray(MODULE, 'buf', buf);
  const link = new Link(p2p, options);
  const n = link.size;
  const r = link.rank;
  const off = checkSplitCounts(MODULE, sendCounts, n, buf.length);
  const hosts = hostsOf(topology, n);
  const myHost = hosts.findIndex((h) => h.includes(r));
  const members = hosts[myHost]!;
  const leader = members[0]!;
  const bpe = buf.BYTES_PER_ELEMENT;
  const myParts = Array.from({ length: n }, (_, d) => bytesOf(slice(buf, off[d]!, off[d + 1]!)));

  let received: Uint8Array[];
  if (r !== leader) {
    await link.sendBytes(leader, packParts(myParts));
    received = expectParts(unpackParts(MODULE, await link.recvBytes(leader)), n);
  } else {
    // partsOf[l][d]: what local rank l sends to global rank d.
    const partsOf: Uint8Array[][] = [myParts];
    const gathered = await Promise.all(members.slice(1).map((m) => link.recvBytes(m)));
    for (const msg of gathered) partsOf.push(expectParts(unpackParts(MODULE, msg), n));
    // fromSrc[dLocal][s]: what global rank s sends to local rank dLocal.
    const fromSrc: Uint8Array[][] = members.map(() => new Array<Uint8Array>(n));
    members.forEach((s, sl) => {
      members.forEach((d, dl) => {
        fromSrc[dl]![s] = partsOf[sl]![d]!;
      });
    });
    const ops: Promise<unknown>[] = [];
    hosts.forEach((other, h) => {
      if (h === myHost) return;
      const out: Uint8Array[] = [];
      for (let sl = 0; sl < members.length; sl++) {
        for (const d of other) out.push(partsOf[sl]![d]!);
      }
      ops.push(link.sendBytes(other[0]!, packParts(out)));
      ops.push(
        link.recvBytes(other[0]!).then((msg) => {
          const parts = expectParts(unpackParts(MODULE, msg), other.length * members.length);
          other.forEach((s, si) => {
            members.forEach((_, dl) => {
              fromSrc[dl]![s] = parts[si * members.length + dl]!;
            });
          });
        }),
      );
    });
    await Promise.all(ops);
    await Promise.all(
      members.slice(1).map((m, i) => link.sendBytes(m, packParts(fromSrc[i + 1]!))),
    );
    received = fromSrc[0]!;
  }

  for (const [s, b] of received.entries()) {
    if (b.byteLength % bpe !== 0) {
      throw new PlexusCollectivesError(
        MODULE,
        'mismatch',
        `rank ${r} got ${b.byteLength} bytes from rank ${s}, not whole ${bpe}-byte elements`,
      );
    }
  }
  const recvCounts = received.map((b) => b.byteLength / bpe);
  const data = like(
    buf,
    recvCounts.reduce((a, b) => a + b, 0),
  );
  const bytes = bytesOf(data);
  let at = 0;
  for (const b of received) {
    bytes.set(b, at);
    at += b.byteLength;
  }
  return { data, recvCounts };
}

function expectParts(parts: Uint8Array[], count: number): Uint8Array[] {
  if (parts.length !== count) {
    throw new PlexusCollectivesError(
      MODULE,
      'mismatch',
      `expected ${count} parts in a packed message, got ${parts.length}`,
    );
  }
  return parts;
}

/** Hierarchical all-to-all with equal splits (`buf.length` divisible by the world size). */
export async function hierarchicalAllToAll<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  topology: Topology,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  const counts = equalCounts(MODULE, buf.length, p2p.worldSize);
  return (await hierarchicalAllToAllV(p2p, buf, counts, topology, options)).data;
}
