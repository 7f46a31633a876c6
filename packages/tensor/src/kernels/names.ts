/**
 * Kernel names registered with tfjs. Inputs and attributes of each are fixed
 * here so every backend implementation agrees:
 *
 * - `PlexusSpmm`: inputs `{indptr: int32[R+1], indices: int32[E], x: float32[C, F], weights?: float32[E]}`,
 *   attrs `{numRows: number}`; output `float32[R, F]`, `out[r] = sum_e w_e * x[indices[e]]`.
 * - `PlexusSddmm`: inputs `{indptr, indices, a: float32[R, F], b: float32[C, F]}`;
 *   output `float32[E]`, `out[e] = dot(a[row(e)], b[indices[e]])`.
 * - `PlexusSegmentSum` / `PlexusSegmentMax`: inputs `{data: float32[E, F], segmentIds: int32[E]}`,
 *   attrs `{numSegments}`; output `float32[numSegments, F]`; empty segments give 0.
 * - `PlexusTopK`: inputs `{x: float32[..., n]}`, attrs `{k}`; outputs values `float32[..., k]`
 *   and indices `int32[..., k]`, sorted descending, ties broken by lower index.
 */
export const SPMM = 'PlexusSpmm';
/** Sampled dense-dense matrix product over a CSR pattern; see {@link SPMM}. */
export const SDDMM = 'PlexusSddmm';
/** Segment sum over unsorted segment ids; see {@link SPMM}. */
export const SEGMENT_SUM = 'PlexusSegmentSum';
/** Segment max over unsorted segment ids; see {@link SPMM}. */
export const SEGMENT_MAX = 'PlexusSegmentMax';
/** Top-k along the last axis with indices; see {@link SPMM}. */
export const TOP_K = 'PlexusTopK';

/** Every kernel this package registers. */
export const PLEXUS_KERNELS = [SPMM, SDDMM, SEGMENT_SUM, SEGMENT_MAX, TOP_K] as const;
