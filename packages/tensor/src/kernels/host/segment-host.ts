/** Scatter-add rows of `data` ([E, F]) into `out` ([numSegments, F]). */
export function segmentSumHost(
  data: Float32Array,
  ids: Int32Array,
  numSegments: number,
  numFeatures: number,
  out: Float32Array,
): void {
  const F = numFeatures;
  out.fill(0, 0, numSegments * F);
  for (let e = 0; e < ids.length; e++) {
    const o = ids[e]! * F;
    const s = e * F;
    for (let f = 0; f < F; f++) out[o + f] = out[o + f]! + data[s + f]!;
  }
}

/** Per-segment maximum of rows of `data`; segments that receive no row stay 0. */
export function segmentMaxHost(
  data: Float32Array,
  ids: Int32Array,
  numSegments: number,
  numFeatures: number,
  out: Float32Array,
): void {
  const F = numFeatures;
  out.fill(Number.NEGATIVE_INFINITY, 0, numSegments * F);
  const seen = new Uint8Array(numSegments);
  for (let e = 0; e < ids.length; e++) {
    const seg = ids[e]!;
    seen[seg] = 1;
    const o = seg * F;
    const s = e * F;
    for (let f = 0; f < F; f++) {
      const v = data[s + f]!;
      // `!(v <= cur)` so that NaN propagates like tf.max does.
      if (!(v <= out[o + f]!)) out[o + f] = v;
    }
  }
  for (let seg = 0; seg < numSegments; seg++) {
    if (seen[seg] === 0) out.fill(0, seg * F, seg * F + F);
  }
}
