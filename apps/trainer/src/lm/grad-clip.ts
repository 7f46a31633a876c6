/**
 * Global L2 norm of a flat gradient (accumulated in float64, so the norm
 * does not depend on how the parameters are split).
 */
export function globalNorm(flat: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < flat.length; i++) sum += flat[i]! * flat[i]!;
  return Math.sqrt(sum);
}

/**
 * Clip by global norm, in place, as `torch.nn.utils.clip_grad_norm_`
 * ("On the difficulty of training recurrent neural networks", Pascanu et
 * al., 2013): scale by `maxNorm / (norm + 1e-6)` when the norm exceeds
 * `maxNorm`. Returns the norm before clipping.
 */
export function clipByGlobalNorm(flat: Float32Array, maxNorm: number): number {
  const norm = globalNorm(flat);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * scale;
  return norm;
}
