const MARKER = Symbol.for('@plexus/collectives/error');

/** Why a collective failed. */
export type CollectivesErrorCode = 'timeout' | 'invalid-argument' | 'broken' | 'mismatch';

/**
 * The one error class of `@plexus/collectives`. Messages start with the
 * package and module (`@plexus/collectives/thread-group: ...`).
 * `PlexusCollectivesError.isInstance` works across duplicate installed copies
 * and on errors that crossed a worker boundary only by their fields.
 */
export class PlexusCollectivesError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `thread-group`. */
  readonly module: string;
  /** Machine-readable reason. */
  readonly code: CollectivesErrorCode;

  constructor(
    module: string,
    code: CollectivesErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`@plexus/collectives/${module}: ${message}`, options);
    this.name = 'PlexusCollectivesError';
    this.module = module;
    this.code = code;
  }

  /** True for errors thrown by any copy of `@plexus/collectives`. */
  static isInstance(error: unknown): error is PlexusCollectivesError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
