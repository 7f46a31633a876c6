const MARKER = Symbol.for('@plexus/moe-routing/error');

/**
 * The one error class of `@plexus/moe-routing`. Messages start with the
 * package and module (`@plexus/moe-routing/top-k: ...`) and say what was
 * expected. `MoeRoutingError.isInstance` works across duplicate installed copies.
 */
export class MoeRoutingError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `capacity`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/moe-routing/${module}: ${message}`, options);
    this.name = 'MoeRoutingError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/moe-routing`. */
  static isInstance(error: unknown): error is MoeRoutingError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
