import { PlexusCollectivesError } from '../errors.js';
import type { Secret } from './auth.js';
import { FT_MODULE } from './protocol.js';

/** The environment variable that carries the run's shared secret (as for `initProcessGroup`). */
export const SECRET_ENV = 'PLEXUS_COLLECTIVES_SECRET';

/**
 * The shared secret a coordinator or peer uses: `given` when set (a
 * non-empty string or Uint8Array), else `PLEXUS_COLLECTIVES_SECRET` from
 * `env` (default `process.env`; empty means none), else none. The empty
 * string is refused rather than read as "no secret", so a secret that went
 * missing on the way does not silently switch authentication off.
 */
export function resolveSecret(
  given: unknown,
  env: Record<string, string | undefined> | undefined,
  name = 'secret',
): Secret | undefined {
  if (given === undefined) {
    const fromEnv = (env ?? process.env)[SECRET_ENV];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }
  if ((typeof given === 'string' || given instanceof Uint8Array) && given.length > 0) return given;
  throw new PlexusCollectivesError(
    FT_MODULE,
    'invalid-argument',
    `expected ${name} to be a non-empty string or Uint8Array (or left out: then ${SECRET_ENV}, else no authentication), got ${describe(given)}`,
  );
}

const describe = (v: unknown) =>
  typeof v === 'string'
    ? 'an empty string'
    : v instanceof Uint8Array
      ? 'an empty Uint8Array'
      : typeof v;

/**
 * The typed error of every failed authentication a peer sees, so callers can
 * tell it from a lost connection by its message as with the stores'.
 */
export function coordinatorAuthError(where: string, why: string): PlexusCollectivesError {
  return new PlexusCollectivesError(
    FT_MODULE,
    'broken',
    `authentication failed with the coordinator at ${where}: ${why}`,
  );
}
