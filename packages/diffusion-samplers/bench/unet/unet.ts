// A small U-Net in tfjs-layers, split into the five sub-models the step
// caches route through a feature cache: E1 (top encoder), E2 (down), Mid
// (bottleneck), D2 (up) and D1 (top decoder). Sub-models share layers with
// the full model that is trained.

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { DiscreteVpSchedule } from '../../src/index.js';
import { SIZE } from './data.js';

/** Time-feature channels fed at every resolution. */
export const TIME_CHANNELS = 4;

/** The U-Net's pieces. */
export interface UNet {
  full: tfl.LayersModel;
  /** The convolutions by name (kernel `[3, 3, in, out]`, bias), for training with core ops. */
  convs: Record<ConvName, tfl.layers.Layer>;
  e1: tfl.LayersModel;
  e2: tfl.LayersModel;
  mid: tfl.LayersModel;
  d2: tfl.LayersModel;
  d1: tfl.LayersModel;
}

/** Names of the U-Net's convolutions, in a fixed order. */
export const CONV_NAMES = [
  'e1a',
  'e1b',
  'e2down',
  'e2b',
  'mida',
  'midb',
  'd2a',
  'd2b',
  'd1a',
  'd1out',
] as const;
/** One convolution's name. */
export type ConvName = (typeof CONV_NAMES)[number];

/** Multiply-accumulates per image of each piece (for the theoretical speed-up). */
export function unetMacs(
  c1: number,
  c2: number,
): Record<'e1' | 'e2' | 'mid' | 'd2' | 'd1', number> {
  const k = TIME_CHANNELS;
  const hi = SIZE * SIZE;
  const lo = hi / 4;
  return {
    e1: hi * 9 * ((1 + k) * c1 + c1 * c1),
    e2: hi * 9 * c1 * c2 + lo * 9 * (c2 + k) * c2,
    mid: lo * 9 * ((c2 + k) * c2 + c2 * c2),
    d2: lo * 9 * ((2 * c2 + k) * c2) + hi * 9 * c2 * c1,
    d1: hi * 9 * ((2 * c1 + k) * c1 + c1),
  };
}

/** Builds the U-Net with channel widths `c1` (16x16) and `c2` (8x8), seeded glorot init. */
export function buildUnet(c1: number, c2: number, seed: number): UNet {
  let s = seed;
  const conv = (filters: number, activation: 'relu' | 'linear' = 'relu') =>
    tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: s++ }),
    });
  const cat = () => tfl.layers.concatenate();
  const L = {
    e1a: conv(c1),
    e1b: conv(c1),
    e2down: conv(c2),
    pool: tfl.layers.averagePooling2d({ poolSize: 2 }),
    e2b: conv(c2),
    mida: conv(c2),
    midb: conv(c2),
    d2a: conv(c2),
    d2up: tfl.layers.upSampling2d({ size: [2, 2] }),
    d2b: conv(c1),
    d1a: conv(c1),
    d1out: conv(1, 'linear'),
    c1: cat(),
    c2: cat(),
    c3: cat(),
    c4: cat(),
    c5: cat(),
  };
  const input = (h: number, c: number) => tfl.input({ shape: [h, h, c] });
  const k = TIME_CHANNELS;
  const half = SIZE / 2;
  const fE1 = (x: tfl.SymbolicTensor, t16: tfl.SymbolicTensor) =>
    L.e1b.apply(L.e1a.apply(L.c1.apply([x, t16]))) as tfl.SymbolicTensor;
  const fE2 = (h1: tfl.SymbolicTensor, t8: tfl.SymbolicTensor) =>
    L.e2b.apply(
      L.c2.apply([L.pool.apply(L.e2down.apply(h1)) as tfl.SymbolicTensor, t8]),
    ) as tfl.SymbolicTensor;
  const fMid = (h2: tfl.SymbolicTensor, t8: tfl.SymbolicTensor) =>
    L.midb.apply(L.mida.apply(L.c3.apply([h2, t8]))) as tfl.SymbolicTensor;
  const fD2 = (m: tfl.SymbolicTensor, h2: tfl.SymbolicTensor, t8: tfl.SymbolicTensor) =>
    L.d2b.apply(L.d2up.apply(L.d2a.apply(L.c4.apply([m, h2, t8])))) as tfl.SymbolicTensor;
  const fD1 = (u: tfl.SymbolicTensor, h1: tfl.SymbolicTensor, t16: tfl.SymbolicTensor) =>
    L.d1out.apply(L.d1a.apply(L.c5.apply([u, h1, t16]))) as tfl.SymbolicTensor;

  const x = input(SIZE, 1);
  const t16 = input(SIZE, k);
  const t8 = input(half, k);
  const h1 = fE1(x, t16);
  const h2 = fE2(h1, t8);
  const m = fMid(h2, t8);
  const u = fD2(m, h2, t8);
  const full = tfl.model({ inputs: [x, t16, t8], outputs: fD1(u, h1, t16) });
  const sub = (ins: tfl.SymbolicTensor[], out: tfl.SymbolicTensor) =>
    tfl.model({ inputs: ins, outputs: out });
  const [ih1, it16, it8, ih2, im, iu, ix] = [
    input(SIZE, c1),
    input(SIZE, k),
    input(half, k),
    input(half, c2),
    input(half, c2),
    input(SIZE, c1),
    input(SIZE, 1),
  ] as tfl.SymbolicTensor[];
  const convs = Object.fromEntries(CONV_NAMES.map((n) => [n, L[n]])) as unknown as Record<
    ConvName,
    tfl.layers.Layer
  >;
  return {
    full,
    convs,
    e1: sub([ix!, it16!], fE1(ix!, it16!)),
    e2: sub([ih1!, it8!], fE2(ih1!, it8!)),
    mid: sub([ih2!, it8!], fMid(ih2!, it8!)),
    d2: sub([im!, ih2!, it8!], fD2(im!, ih2!, it8!)),
    d1: sub([iu!, ih1!, it16!], fD1(iu!, ih1!, it16!)),
  };
}

/** Time features at timestep `t` (fractional), tiled over `[n, h, h, 4]`. */
export function timePlanes(
  schedule: DiscreteVpSchedule,
  t: number,
  n: number,
  h: number,
): tf.Tensor4D {
  const T = schedule.alphasCumprod.length;
  const i = Math.min(T - 1, Math.max(0, Math.round(t)));
  const f = [
    t / T,
    Math.sin((Math.PI * t) / T),
    Math.cos((Math.PI * t) / T),
    Math.sqrt(1 - schedule.alphasCumprod[i]!),
  ];
  return tf.tidy(
    () => tf.tile(tf.tensor4d(f, [1, 1, 1, TIME_CHANNELS]), [n, h, h, 1]) as tf.Tensor4D,
  );
}
