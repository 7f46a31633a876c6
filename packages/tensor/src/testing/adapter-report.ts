import type { BackendChoice } from '../backend/types.js';

/** How a benchmark names and labels the device it ran on. */
export interface AdapterReport {
  /** The adapter as `initBackend` reported it. */
  readonly adapter: string;
  readonly isGpu: boolean;
  /** Says plainly when the numbers come from a software adapter rather than a GPU. */
  readonly label: string;
  /** The adapter name made safe for a file name (lower case, dashes, at most 48 characters). */
  readonly slug: string;
}

/**
 * The adapter fields every GPU benchmark writes into its results, and the
 * slug its results file is named by, so that a run on lavapipe can never
 * pass for GPU numbers.
 */
export function adapterReport(choice: Pick<BackendChoice, 'device' | 'isGpu'>): AdapterReport {
  const slug =
    choice.device
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 48)
      .replace(/-$/, '') || 'unknown';
  return {
    adapter: choice.device,
    isGpu: choice.isGpu,
    label: choice.isGpu
      ? 'GPU timings'
      : 'software adapter (lavapipe: WebGPU on the CPU) - proves the run end to end; these are NOT GPU numbers',
    slug,
  };
}
