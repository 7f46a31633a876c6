// Test helper: one tfjs CPU backend per worker.
import { initBackend } from '@plexus/tensor';

let ready: Promise<unknown> | undefined;

/** Initialise the CPU backend once. */
export function cpuBackend(): Promise<unknown> {
  ready ??= initBackend({ backend: 'cpu' });
  return ready;
}
