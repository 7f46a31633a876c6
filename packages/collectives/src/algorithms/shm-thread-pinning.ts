import { switchedOff } from '../env-switch.js';
import type { NativeAddon } from '../native/addon.js';

/**
 * From this buffer size the shared-memory all-reduce pins its thread to a
 * CPU of its own for the call (see `pinForCall`). Below it a call is over
 * within the peers' spin-wait, before the scheduler moves anyone.
 */
export const PIN_MIN_BYTES = 1 << 20;

/**
 * Pins the calling thread, for one all-reduce of `worldSize` ranks on one
 * host, to CPU number `rank` of `worldSize` evenly spaced ones among those
 * it may run on, and returns what undoes it (restoring the thread's own
 * affinity). Undefined, leaving the thread as it is, when there are fewer
 * allowed CPUs than ranks (they must share anyway) or the kernel refuses.
 *
 * Why: when ranks wake each other through futexes, the scheduler's
 * wake-affine placement can stack two ranks on one core while another
 * idles, and leave them there for dozens of calls. On the 2-core build
 * machine that made whole 2-rank launches of the 64 MiB benchmark take
 * 17-18 ms per all-reduce instead of 8 (`/proc/self/stat` showed both ranks
 * on CPU 0); with each rank pinned, four launches out of four ran at
 * 8.3-8.7 ms. Only the calling thread is pinned, and only during the
 * call, so the process's other threads, and any it starts, keep their
 * affinity. Evenly spaced rather than adjacent CPUs keep ranks off SMT
 * siblings where the numbering pairs them. `PLEXUS_SHM_PIN=0` turns it off.
 */
export function pinForCall(
  native: NativeAddon,
  rank: number,
  worldSize: number,
): (() => void) | undefined {
  if (switchedOff('PLEXUS_SHM_PIN')) return undefined;
  const allowed = native.threadAffinity();
  if (allowed.length < worldSize) return undefined;
  const cpu = allowed[Math.floor((rank * allowed.length) / worldSize)]!;
  if (!native.setThreadAffinity([cpu])) return undefined;
  return () => {
    native.setThreadAffinity(allowed);
  };
}
