const MARKER = Symbol.for('@plexus/vector-index/error');

/**
 * The one error class of `@plexus/vector-index`. Messages start with the
 * package and module (`@plexus/vector-index/hnsw: ...`) and say what was
 * expected. `VectorIndexError.isInstance` works across duplicate installed
 * copies of the package, where `instanceof` does not.
 */
export class VectorIndexError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `hnsw` or `format`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/vector-index/${module}: ${message}`, options);
    this.name = 'VectorIndexError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/vector-index`. */
  static isInstance(error: unknown): error is VectorIndexError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
