import { PlexusCollectivesError } from '../errors.js';
import { bytesOf, checkElementArray, type ElementArray, like, slice } from '../reduction/dtype.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import { type AlgorithmOptions, Link } from './context.js';
import { checkSplitCounts, equalCounts } from './split-counts.js';

const MODULE = 'algorithms/all-to-all';

/** Result of a variable-split all-to-all. */
export interface AllToAllVResult<T extends ElementArray> {
  /** Received elements, grouped by source rank in rank order. */
  readonly data: T;
  /** `recvCounts[s]`: elements received from rank `s`. */
  readonly recvCounts: number[];
}

/**
 * All-to-all with variable splits: the first `sendCounts[0]` elements go to
 * rank 0, the next `sendCounts[1]` to rank 1, and so on. One message per
 * ordered pair (its length carries the count, so no separate count round),
 * all pairs in flight at once.
 */
export async function allToAllV<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  sendCounts: readonly number[],
  options: AlgorithmOptions = {},
): Promise<AllToAllVResult<T>> {
  checkElementArray(MODULE, 'buf', buf);
  const link = new Link(p2p, options);
  const n = link.size;
  const r = link.rank;
  const off = checkSplitCounts(MODULE, sendCounts, n, buf.length);
  const bpe = buf.BYTES_PER_ELEMENT;
  const received: Uint8Array[] = new Array(n);
  received[r] = bytesOf(slice(buf, off[r]!, off[r + 1]!));
  const ops: Promise<unknown>[] = [];
  for (let step = 1; step < n; step++) {
    const dst = (r + step) % n;
    const src = (r - step + n) % n;
    ops.push(link.send(dst, slice(buf, off[dst]!, off[dst + 1]!)));
    ops.push(
      link.recvBytes(src).then((bytes) => {
        if (bytes.byteLength % bpe !== 0) {
          throw new PlexusCollectivesError(
            MODULE,
            'mismatch',
            `rank ${r} got ${bytes.byteLength} bytes from rank ${src}, not a whole number of ${bpe}-byte elements`,
          );
        }
        received[src] = bytes;
      }),
    );
  }
  await Promise.all(ops);
  const recvCounts = received.map((b) => b.byteLength / bpe);
  const data = like(
    buf,
    recvCounts.reduce((a, b) => a + b, 0),
  );
  const out = bytesOf(data);
  let at = 0;
  for (const b of received) {
    out.set(b, at);
    at += b.byteLength;
  }
  return { data, recvCounts };
}

/**
 * All-to-all with equal splits: `buf.length` must be divisible by the world
 * size; chunk `j` goes to rank `j`, chunk `j` of the result came from rank `j`.
 */
export async function flatAllToAll<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  const counts = equalCounts(MODULE, buf.length, p2p.worldSize);
  return (await allToAllV(p2p, buf, counts, options)).data;
}
