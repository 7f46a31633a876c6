const MARKER = Symbol.for('@plexus/graph-core/error');

/**
 * The one error class of `@plexus/graph-core`. Messages start with the package
 * and module (`@plexus/graph-core/csr: ...`) and say what was expected.
 * `GraphCoreError.isInstance` works across duplicate installed copies.
 */
export class GraphCoreError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `csr` or `io`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/graph-core/${module}: ${message}`, options);
    this.name = 'GraphCoreError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/graph-core`. */
  static isInstance(error: unknown): error is GraphCoreError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
