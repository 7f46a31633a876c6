import type { FloatArray } from '../compression/codecs.js';

/**
 * One outer step of SGD with Nesterov momentum on a pseudo-gradient, the
 * outer optimizer of DiLoCo, in PyTorch's `SGD(nesterov=True)` form:
 * `v = mu v + g; theta -= lr (g + mu v)`. Without Nesterov, `theta -= lr v`.
 * Updates `theta` and `velocity` in place.
 */
export function outerNesterovStep(
  theta: FloatArray,
  velocity: FloatArray,
  grad: FloatArray,
  lr: number,
  momentum: number,
  nesterov = true,
): void {
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i]!;
    const v = momentum * velocity[i]! + g;
    velocity[i] = v;
    theta[i]! -= lr * (nesterov ? g + momentum * v : v);
  }
}
