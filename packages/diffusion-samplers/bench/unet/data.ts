// The U-Net benchmark's tiny image distribution: 16x16 one-channel images of
// a soft-edged disk (random centre and radius) on a dark background, in [-1, 1].
import type { PortableRng } from '../../src/index.js';

/** Image side. */
export const SIZE = 16;

/** `n` seeded disk images, `[n, 16, 16, 1]` row-major. */
export function diskImages(rng: PortableRng, n: number): Float32Array {
  const out = new Float32Array(n * SIZE * SIZE);
  for (let i = 0; i < n; i++) {
    const cx = 3 + 10 * rng.uniform();
    const cy = 3 + 10 * rng.uniform();
    const r = 2 + 3 * rng.uniform();
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) - r;
        out[i * SIZE * SIZE + y * SIZE + x] = 2 / (1 + Math.exp(2 * d)) - 1;
      }
  }
  return out;
}
