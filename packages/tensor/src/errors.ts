const MARKER = Symbol.for('@plexus/tensor/error');

/**
 * The one error class of `@plexus/tensor`. Messages start with the package
 * and module (`@plexus/tensor/spmm: ...`) and say what was expected.
 * `PlexusTensorError.isInstance` works across duplicate installed copies.
 */
export class PlexusTensorError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `spmm`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/tensor/${module}: ${message}`, options);
    this.name = 'PlexusTensorError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/tensor`. */
  static isInstance(error: unknown): error is PlexusTensorError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
