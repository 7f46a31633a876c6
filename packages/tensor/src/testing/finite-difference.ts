/**
 * Central finite-difference gradient of a scalar function of one flat input,
 * evaluated in float64 by the caller's `f`, to check analytic gradients.
 */
export function finiteDifferenceGradient(
  f: (x: Float32Array) => number,
  x: Float32Array,
  eps = 1e-2,
): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = x.slice();
  for (let i = 0; i < x.length; i++) {
    const orig = probe[i]!;
    probe[i] = orig + eps;
    const up = f(probe);
    probe[i] = orig - eps;
    const down = f(probe);
    probe[i] = orig;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}
