/** A half-open range `[start, start + size)` of rows, entries or features. */
export interface Block {
  readonly start: number;
  readonly size: number;
}

/** Split `[0, n)` into consecutive blocks of at most `blockSize` (one empty block when n = 0). */
export function splitRange(n: number, blockSize: number): Block[] {
  const size = Math.max(1, Math.floor(blockSize));
  if (n <= 0) return [{ start: 0, size: 0 }];
  const blocks: Block[] = [];
  for (let start = 0; start < n; start += size)
    blocks.push({ start, size: Math.min(size, n - start) });
  return blocks;
}

/**
 * Most threads one dispatch may run: a 2-D grid of `maxPerDim²` workgroups
 * (the shaders flatten it back with tfjs' `getGlobalIndex`), kept below 2³¹
 * so flat indices stay in `i32`.
 */
export function maxThreadsPerDispatch(maxPerDim: number, workgroupSize: number): number {
  return Math.min(maxPerDim * maxPerDim * workgroupSize, 2 ** 31 - 1 - workgroupSize);
}

/**
 * Dispatch grid for `threads` threads of `workgroupSize`: 1-D while it fits
 * in one dimension, 2-D beyond. Callers keep `threads` under
 * {@link maxThreadsPerDispatch} by splitting their work first.
 */
export function dispatch2d(
  threads: number,
  workgroupSize: number,
  maxPerDim: number,
): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroupSize));
  if (groups <= maxPerDim) return [groups, 1, 1];
  return [maxPerDim, Math.ceil(groups / maxPerDim), 1];
}

/** Features per vector load: 4 (vec4) when `f` divides by 4, else scalars. */
export function vectorWidth(f: number): 1 | 4 {
  return f % 4 === 0 ? 4 : 1;
}
