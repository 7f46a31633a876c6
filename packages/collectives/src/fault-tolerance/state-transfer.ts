import { PlexusCollectivesError } from '../errors.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { StateDigest, Transfer } from './protocol.js';
import { FT_MODULE } from './protocol.js';
import { hashBytes, type SharedState, tensorBytes } from './state-hash.js';

/**
 * This rank's part of a shared-state synchronisation: send the keys it was
 * asked to serve, receive the keys it lacks into fresh buffers and check
 * each against the elected hash (PCCL re-hashes after every transfer).
 * Returns the received bytes by key; nothing is written into `state` here,
 * so an aborted round leaves it untouched.
 */
export async function transferState(
  p2p: PointToPointV1,
  state: SharedState,
  elected: StateDigest,
  transfers: Transfer[],
  timeoutMs: () => number,
): Promise<Map<string, Uint8Array>> {
  const me = p2p.rank;
  const received = new Map<string, Uint8Array>();
  const jobs: Promise<void>[] = [];
  for (const tr of transfers) {
    if (tr.from === me) {
      jobs.push(
        (async () => {
          for (const key of tr.keys) {
            await p2p.send(tr.to, tensorBytes(state[key]!), { timeoutMs: timeoutMs() });
          }
        })(),
      );
    }
    if (tr.to === me) {
      jobs.push(
        (async () => {
          for (const key of tr.keys) {
            const want = elected.keys[key]!;
            const into = new Uint8Array(state[key]!.byteLength);
            await p2p.recv(tr.from, into, { timeoutMs: timeoutMs() });
            if (hashBytes(want.dtype, want.length, into) !== want.hash) {
              throw new PlexusCollectivesError(
                FT_MODULE,
                'mismatch',
                `shared state "${key}" received from rank ${tr.from} does not match the elected hash`,
              );
            }
            received.set(key, into);
          }
        })(),
      );
    }
  }
  await Promise.all(jobs);
  return received;
}
