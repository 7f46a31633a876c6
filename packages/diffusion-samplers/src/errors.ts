const MARKER = Symbol.for('@plexus/diffusion-samplers/error');

/**
 * The one error class of `@plexus/diffusion-samplers`. Messages start with the
 * package and module (`@plexus/diffusion-samplers/grid: ...`) and say what was
 * expected. `DiffusionSamplersError.isInstance` works across duplicate copies.
 */
export class DiffusionSamplersError extends Error {
  readonly [MARKER] = true;
  /** The module that raised the error, e.g. `grid`. */
  readonly module: string;

  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super(`@plexus/diffusion-samplers/${module}: ${message}`, options);
    this.name = 'DiffusionSamplersError';
    this.module = module;
  }

  /** True for errors thrown by any copy of `@plexus/diffusion-samplers`. */
  static isInstance(error: unknown): error is DiffusionSamplersError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
