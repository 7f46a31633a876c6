const MARKER = Symbol.for('@plexus/gnn-layers/error');

/**
 * The error class of `@plexus/gnn-layers`; messages start with
 * `@plexus/gnn-layers/<module>: ` and say what was expected.
 */
export class GnnLayersError extends Error {
  readonly [MARKER] = true;

  constructor(module: string, message: string) {
    super(`@plexus/gnn-layers/${module}: ${message}`);
    this.name = 'GnnLayersError';
  }

  /** True for errors thrown by any copy of `@plexus/gnn-layers`. */
  static isInstance(error: unknown): error is GnnLayersError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
