import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initBackend } from '@plexus/tensor';

/**
 * Probe for a WebGPU adapter (a GPU or lavapipe); the reason to skip when
 * there is none. Called at module level, before a suite is declared.
 */
export async function webGpuSkipReason(suite: string): Promise<string | undefined> {
  try {
    await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
    return undefined;
  } catch (error) {
    const reason = `${suite} skipped: no WebGPU adapter (${error instanceof Error ? error.message : String(error)}); install lavapipe (shared/gpu/install-lavapipe.sh) to run them`;
    console.warn(reason);
    return reason;
  }
}

// Dawn frees bind groups only when V8 collects their wrappers (see the
// @plexus/tensor webgpu tests); collecting after each test bounds lavapipe's
// memory mappings.
setFlagsFromString('--expose-gc');
/** Run a full garbage collection (use in `afterEach`). */
export const collectGarbage = runInNewContext('gc') as () => void;

/** Largest absolute difference; fails if lengths differ. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

/**
 * Dense float64 causal GQA attention (the reference): queries at positions
 * `queryStart..` (`q` `[nq, H, d]`), keys/values `[len, kvH, d]` at `0..len-1`.
 */
export function denseCausal64(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  queryStart: number,
  nq: number,
  H: number,
  kvH: number,
  d: number,
): Float64Array {
  const out = new Float64Array(nq * H * d);
  const scale = 1 / Math.sqrt(d);
  for (let qi = 0; qi < nq; qi++) {
    const len = queryStart + qi + 1;
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / kvH));
      const qo = (qi * H + h) * d;
      const scores = new Float64Array(len);
      let max = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < len; t++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += q[qo + i]! * k[(t * kvH + g) * d + i]!;
        scores[t] = dot * scale;
        max = Math.max(max, scores[t]!);
      }
      let sum = 0;
      for (let t = 0; t < len; t++) {
        scores[t] = Math.exp(scores[t]! - max);
        sum += scores[t]!;
      }
      for (let t = 0; t < len; t++)
        for (let i = 0; i < d; i++) out[qo + i]! += (scores[t]! / sum) * v[(t * kvH + g) * d + i]!;
    }
  }
  return out;
}
