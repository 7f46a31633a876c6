import * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';
import type { DenoiseInfo, Denoiser } from '../samplers/types.js';
import { adamsBashforthWeights } from './adams-bashforth.js';

/** What a cached network sees on each call. */
export interface CacheContext {
  /** True when this call recomputes every block (a "full" evaluation). */
  readonly full: boolean;
  /**
   * A cacheable block: on full calls runs `compute` and records the result;
   * on cached calls returns the stored features, reused (order 0, DeepCache)
   * or Adams–Bashforth-extrapolated (order k, AB-Cache). The returned tensor
   * belongs to the caller.
   */
  block(name: string, compute: () => tf.Tensor): tf.Tensor;
}

/** A network whose forward pass routes its expensive blocks through a {@link CacheContext}. */
export type CachedNetwork<C> = (
  x: tf.Tensor,
  t: number,
  cond: C | undefined,
  info: DenoiseInfo,
  cache: CacheContext,
) => tf.Tensor | Promise<tf.Tensor>;

/** Settings of {@link createFeatureCache}. */
export interface FeatureCacheOptions {
  /** Which model calls are full: a per-call list (true = full) or a predicate. Call 0 is always full. */
  schedule: readonly boolean[] | ((call: number, info: DenoiseInfo) => boolean);
  /** Extrapolation order k (0 = reuse as is; default 0). Falls back to lower orders while history is short. */
  order?: number;
  /** Clock of the extrapolation: the model time `t` (default) or `log(sigma)`. */
  clock?: 'time' | 'log-sigma';
}

/** Counters of a {@link FeatureCache}. */
export interface FeatureCacheStats {
  fullCalls: number;
  cachedCalls: number;
  blocksComputed: number;
  blocksReused: number;
}

/**
 * Training-free step caching through a feature-cache API the network's
 * forward pass calls: DeepCache-style block reuse ("DeepCache: Accelerating
 * Diffusion Models for Free", 2024), "Faster Diffusion: Rethinking the Role of
 * UNet Encoder in Diffusion Models" (2023) encoder propagation (cache the
 * encoder block, recompute the decoder), and AB-Cache extrapolation (2025).
 */
export interface FeatureCache {
  /** A {@link Denoiser} for any sampler, running `net` with this cache. */
  wrap<C>(net: CachedNetwork<C>): Denoiser<C>;
  readonly stats: FeatureCacheStats;
  /** Drop all cached features (between sampling runs). */
  reset(): void;
}

interface Entry {
  times: number[]; // newest first
  values: tf.Tensor[];
}

/** Creates a {@link FeatureCache}. */
export function createFeatureCache(options: FeatureCacheOptions): FeatureCache {
  const order = options.order ?? 0;
  if (!Number.isInteger(order) || order < 0 || order > 4)
    throw new DiffusionSamplersError(
      'feature-cache',
      `order must be an integer in 0..4, got ${order}`,
    );
  const clock = options.clock ?? 'time';
  const schedule = options.schedule;
  const isFull =
    typeof schedule === 'function'
      ? schedule
      : (call: number) => {
          if (call >= schedule.length)
            throw new DiffusionSamplersError(
              'feature-cache',
              `the cache schedule covers ${schedule.length} model calls; call ${call} is past its end`,
            );
          return schedule[call]!;
        };
  const entries = new Map<string, Entry>();
  const stats: FeatureCacheStats = {
    fullCalls: 0,
    cachedCalls: 0,
    blocksComputed: 0,
    blocksReused: 0,
  };

  const reset = (): void => {
    for (const e of entries.values()) for (const v of e.values) v.dispose();
    entries.clear();
    stats.fullCalls = stats.cachedCalls = stats.blocksComputed = stats.blocksReused = 0;
  };

  return {
    stats,
    reset,
    wrap<C>(net: CachedNetwork<C>): Denoiser<C> {
      return (x, t, cond, info) => {
        const full = info.call === 0 || entries.size === 0 || isFull(info.call, info);
        if (full) stats.fullCalls++;
        else stats.cachedCalls++;
        const now = clock === 'time' ? t : Math.log(info.sigma);
        const ctx: CacheContext = {
          full,
          block(name, compute) {
            const entry = entries.get(name);
            if (full || entry === undefined) {
              const value = compute();
              stats.blocksComputed++;
              record(name, now, value);
              return value;
            }
            stats.blocksReused++;
            const k = Math.min(order, entry.values.length - 1);
            const w = adamsBashforthWeights(entry.times, now, k);
            return tf.tidy(() => {
              let acc = tf.mul(entry.values[0]!, w[0]!);
              for (let j = 1; j < w.length; j++) acc = tf.add(acc, tf.mul(entry.values[j]!, w[j]!));
              return acc;
            });
          },
        };
        return net(x, t, cond, info, ctx);
      };
    },
  };

  function record(name: string, time: number, value: tf.Tensor): void {
    let entry = entries.get(name);
    if (entry === undefined) {
      entry = { times: [], values: [] };
      entries.set(name, entry);
    }
    if (entry.times[0] === time) {
      // Re-evaluation at the same time (e.g. a Heun corrector): replace, so
      // extrapolation never divides by a zero time difference.
      entry.values.shift()!.dispose();
      entry.times.shift();
    }
    entry.times.unshift(time);
    entry.values.unshift(tf.keep(tf.clone(value)));
    while (entry.values.length > order + 1) {
      entry.values.pop()!.dispose();
      entry.times.pop();
    }
  }
}

/** DeepCache's uniform schedule: a full call every `interval` calls. */
export function uniformCacheSchedule(calls: number, interval: number): boolean[] {
  if (!Number.isInteger(interval) || interval < 1)
    throw new DiffusionSamplersError(
      'feature-cache',
      `interval must be a positive integer, got ${interval}`,
    );
  return Array.from({ length: calls }, (_, i) => i % interval === 0);
}
