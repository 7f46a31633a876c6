const MARKER = Symbol.for('@plexus/models/error');

/**
 * The one error class of `@plexus/models`. Messages start with the package
 * and module (`@plexus/models/safetensors: ...`) and say what was wrong and
 * what is accepted. `PlexusModelsError.isInstance` works across duplicate
 * installed copies.
 */
export class PlexusModelsError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `safetensors`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/models/${module}: ${message}`, options);
    this.name = 'PlexusModelsError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/models`. */
  static isInstance(error: unknown): error is PlexusModelsError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
