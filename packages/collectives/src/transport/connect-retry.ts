import { connect, type Socket } from 'node:net';
import { PlexusCollectivesError } from '../errors.js';

/**
 * Runs `attempt` until it resolves, pausing `pauseMs` between failures (the
 * listener may not be up yet during a rendezvous); once `deadline`
 * (`performance.now()` time) has passed, the last failure becomes a
 * `timeout` error of `module` whose message is `what` and the cause's.
 */
export async function retryUntil<T>(
  attempt: () => Promise<T>,
  deadline: number,
  module: string,
  what: string,
  pauseMs = 100,
): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (performance.now() > deadline) {
        throw new PlexusCollectivesError(module, 'timeout', `${what}: ${(error as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

/** One TCP connection attempt: resolves once connected, rejects on its error. */
export function connectOnce(host: string, port: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
