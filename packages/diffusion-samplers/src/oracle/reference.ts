import { karrasSigmas } from '../schedules/grid.js';
import { type GaussianMixture, gmmEpsilon } from './gmm.js';

/**
 * Host float64 reference solution of the probability-flow ODE
 * `dxbar/dsigma = eps(xbar, sigma)` of a Gaussian mixture, by classical RK4 on
 * a rho-7 grid from `sigmaStart` to `sigmaEnd` (`sigmaEnd = 0`: to 1e-5, then
 * one step to 0, as the anchor's cross-check does). Accurate to ~1e-9 with
 * the default 2000 steps; used to get references at any sigma.
 */
export function solvePfOde(
  mix: GaussianMixture,
  xbar: Float64Array,
  sigmaStart: number,
  sigmaEnd: number,
  steps = 2000,
): Float64Array {
  const grid =
    sigmaEnd === 0
      ? [...karrasSigmas(steps, 1e-5, sigmaStart), 0]
      : [...karrasSigmas(steps + 1, sigmaEnd, sigmaStart)];
  let x = Float64Array.from(xbar);
  const n = x.length;
  const tmp = new Float64Array(n);
  const k1 = new Float64Array(n);
  const k2 = new Float64Array(n);
  const k3 = new Float64Array(n);
  const k4 = new Float64Array(n);
  for (let j = 0; j + 1 < grid.length; j++) {
    const s = grid[j]!;
    const h = grid[j + 1]! - s;
    gmmEpsilon(mix, x, s, k1);
    for (let i = 0; i < n; i++) tmp[i] = x[i]! + 0.5 * h * k1[i]!;
    gmmEpsilon(mix, tmp, s + 0.5 * h, k2);
    for (let i = 0; i < n; i++) tmp[i] = x[i]! + 0.5 * h * k2[i]!;
    gmmEpsilon(mix, tmp, s + 0.5 * h, k3);
    for (let i = 0; i < n; i++) tmp[i] = x[i]! + h * k3[i]!;
    gmmEpsilon(mix, tmp, s + h, k4);
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++)
      next[i] = x[i]! + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
    x = next;
  }
  return x;
}
