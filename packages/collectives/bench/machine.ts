// What the shared-memory benchmarks record about the run's machine.
import { cpus, loadavg } from 'node:os';

/** Date, Node version, machine name (PLEXUS_BENCH_MACHINE), CPU and the load average around the run. */
export function machineFields(loadBefore: number) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    machine: process.env.PLEXUS_BENCH_MACHINE ?? 'the 2-core build machine',
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
  };
}
