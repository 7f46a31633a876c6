import { checkElementArray, type ElementArray } from '../reduction/dtype.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import { type AlgorithmOptions, checkRank, Link } from './context.js';

const MODULE = 'algorithms/send-recv';

/** Sends the elements of `buf` to rank `dst` as one message. */
export async function sendArray(
  p2p: PointToPointV1,
  buf: ElementArray,
  dst: number,
  options: AlgorithmOptions = {},
): Promise<void> {
  checkElementArray(MODULE, 'buf', buf);
  checkRank(MODULE, 'dst', dst, p2p.worldSize);
  await new Link(p2p, options).send(dst, buf);
}

/** Receives one message of exactly `buf.byteLength` bytes from rank `src` into `buf`. */
export async function recvArray<T extends ElementArray>(
  p2p: PointToPointV1,
  buf: T,
  src: number,
  options: AlgorithmOptions = {},
): Promise<T> {
  checkElementArray(MODULE, 'buf', buf);
  checkRank(MODULE, 'src', src, p2p.worldSize);
  await new Link(p2p, options).recv(src, buf);
  return buf;
}
