const MARKER = Symbol.for('@plexus/kv-cache/error');

/**
 * The one error class of `@plexus/kv-cache`. Messages start with the package
 * and module (`@plexus/kv-cache/block-manager: ...`) and say what was expected.
 * `PlexusKvCacheError.isInstance` works across duplicate installed copies.
 */
export class PlexusKvCacheError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `block-manager`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/kv-cache/${module}: ${message}`, options);
    this.name = 'PlexusKvCacheError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/kv-cache`. */
  static isInstance(error: unknown): error is PlexusKvCacheError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
