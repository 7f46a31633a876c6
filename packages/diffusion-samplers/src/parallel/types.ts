import type * as tf from '@tensorflow/tfjs-core';
import type { DenoiseInfo } from '../samplers/types.js';

/**
 * What a patch-parallel network sees besides its input patch
 * (DistriFusion, "DistriFusion: Distributed Parallel Inference for
 * High-Resolution Diffusion Models", 2024). The latent is split along axis 1
 * (height in NHWC) into `worldSize` equal patches; rank `r` owns rows
 * `[rowStart, rowEnd)`.
 */
export interface PatchContextV1 {
  readonly specificationVersion: 'v1';
  readonly rank: number;
  readonly worldSize: number;
  /** First row (axis 1 of the full latent) of this rank's patch. */
  readonly rowStart: number;
  /** One past the last row of this rank's patch. */
  readonly rowEnd: number;
  /** Rows of the full latent (axis 1). */
  readonly rows: number;
  /**
   * True while every exchange is synchronous (the warm-up steps), so the
   * network sees exactly the sequential activations.
   */
  readonly synchronous: boolean;
  /**
   * Assembles the full activation of layer `name` from every rank's patch of
   * it: `local` has shape `[batch, h, ...rest]` (the same on every rank) and
   * the result `[batch, worldSize * h, ...rest]`, with rank `r`'s patch at
   * rows `[r * h, (r + 1) * h)`. This rank's rows are always `local`
   * itself; after the warm-up the other ranks' rows are the ones they sent
   * at the previous model call (stale by one step), while this call's
   * patches travel asynchronously for the next one. Every rank must call
   * `exchange` with the same names in the same order; a name may be used
   * once per model call. The result belongs to the caller.
   */
  exchange(name: string, local: tf.Tensor): Promise<tf.Tensor>;
}

/**
 * A network run on one patch: returns the output for `xPatch`'s rows (same
 * shape as `xPatch`), routing every layer that needs other patches through
 * `ctx.exchange`. The sampler disposes the returned tensor and `xPatch`.
 */
export type PatchDenoiser<C = unknown> = (
  xPatch: tf.Tensor,
  t: number,
  cond: C | undefined,
  info: DenoiseInfo,
  ctx: PatchContextV1,
) => tf.Tensor | Promise<tf.Tensor>;

/** Communication counters of one rank for one parallel sampling run. */
export interface ParallelStats {
  /** Model calls on this rank. */
  readonly modelCalls: number;
  /** Collective calls (all-gathers, broadcasts, sends) issued by this rank. */
  readonly collectives: number;
  /**
   * Payload bytes this rank handed to collectives (its own contribution:
   * the local buffer of an all-gather, the buffer of a send or of a
   * broadcast it roots). Wire bytes depend on the algorithm; read the
   * transport's counters for those.
   */
  readonly payloadBytes: number;
  /** Exchanges that waited for fresh data (warm-up). */
  readonly synchronousExchanges: number;
  /** Exchanges served from last step's (stale) activations. */
  readonly staleExchanges: number;
}

/** Result of a parallel sampling run on one rank. */
export interface ParallelSampleResult {
  /** The full sample (every rank returns the same tensor); the caller disposes it. */
  readonly sample: tf.Tensor;
  readonly stats: ParallelStats;
}
