import type { BenchRow } from './kernels.js';

/** The targets as ratios measured in the same run. */
export interface BenchSummary {
  /** Best host spmm (cpu or wasm) as a fraction of the single-threaded C loop's speed (target >= 0.25). */
  readonly fractionOfC?: { backend: string; value: number };
  /** Speed-up of Plexus spmm over tfjs gather + unsortedSegmentSum on cpu, per baseline size (target >= 3). */
  readonly speedupOverGatherSegmentSum: Array<{ shape: string; backend: string; value: number }>;
  /** Plexus spmm speed-up over the naive JS loop, per backend. */
  readonly speedupOverNaiveJs: Array<{ backend: string; value: number }>;
}

/** Compute the target ratios from the measured rows. */
export function summarise(rows: readonly BenchRow[]): BenchSummary {
  const big = rows.find((r) => r.impl === 'C -O3 single thread')?.shape;
  const ms = (pred: (r: BenchRow) => boolean): number | undefined =>
    rows.find((r) => pred(r) && r.medianMs !== undefined)?.medianMs;
  const cMs = ms((r) => r.impl === 'C -O3 single thread');
  const naiveMs = ms((r) => r.impl === 'naive JS loop');
  let fractionOfC: BenchSummary['fractionOfC'];
  const speedupOverNaiveJs: BenchSummary['speedupOverNaiveJs'] = [];
  for (const backend of ['cpu', 'wasm', 'webgpu']) {
    const ours = ms((r) => r.backend === backend && r.impl === 'plexus spmm' && r.shape === big);
    if (ours === undefined) continue;
    if (naiveMs !== undefined) speedupOverNaiveJs.push({ backend, value: naiveMs / ours });
    if (
      cMs !== undefined &&
      backend !== 'webgpu' &&
      (fractionOfC === undefined || cMs / ours > fractionOfC.value)
    ) {
      fractionOfC = { backend, value: cMs / ours };
    }
  }
  const speedupOverGatherSegmentSum: BenchSummary['speedupOverGatherSegmentSum'] = [];
  for (const base of rows.filter(
    (r) =>
      r.backend === 'cpu' &&
      r.impl === 'tfjs gather + unsortedSegmentSum' &&
      r.medianMs !== undefined,
  )) {
    for (const backend of ['cpu', 'wasm']) {
      const ours = ms(
        (r) => r.backend === backend && r.impl === 'plexus spmm' && r.shape === base.shape,
      );
      if (ours !== undefined)
        speedupOverGatherSegmentSum.push({
          shape: base.shape,
          backend,
          value: base.medianMs! / ours,
        });
    }
  }
  return {
    ...(fractionOfC ? { fractionOfC } : {}),
    speedupOverGatherSegmentSum,
    speedupOverNaiveJs,
  };
}
