import type { GemmExports } from './gemm-module.js';

/**
 * Block sizes of the GotoBLAS loop nest ("Anatomy of High-Performance Matrix
 * Multiplication", Goto & van de Geijn, 2008): a kc x 8 panel of packed B
 * (kc·32 bytes, 16 KiB) stays in L1 while mc x kc of packed A (256 KiB)
 * streams from L2, and a kc x nc block of packed B is reused by every row
 * block. kc = 512 beat 256 by ~20% at 2048³ (fewer passes over C); the
 * training shapes (k <= 688) did not tell the settings apart.
 */
export const GEMM_BLOCKS: GemmBlocks = { mc: 128, kc: 512, nc: 1024 };

/** Row, depth and column block sizes of the loop nest (mc multiple of 4, nc of 8). */
export interface GemmBlocks {
  readonly mc: number;
  readonly kc: number;
  readonly nc: number;
}

/** One `C = op(A) · op(B)` on the kernel's memory; sizes in elements, pointers in bytes. */
export interface GemmCall {
  a: number;
  b: number;
  c: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

/** Scratch bytes `gemmInto` needs for an `m x n x k` product. */
export function gemmScratchBytes(
  m: number,
  n: number,
  k: number,
  blocks: GemmBlocks = GEMM_BLOCKS,
): number {
  const mc = Math.min(m, blocks.mc);
  const nc = Math.min(n, blocks.nc);
  const kc = Math.min(k, blocks.kc);
  const aBytes = Math.ceil(mc / 4) * 4 * kc * 4;
  const bBytes = Math.ceil(nc / 8) * 8 * kc * 4;
  return aBytes + bBytes + 128;
}

/**
 * `C = op(A) · op(B)` with `C` row-major `[m, n]`, `A` `[m, k]` (`[k, m]` when
 * transA) and `B` `[k, n]` (`[n, k]` when transB), all row-major. `scratch`
 * points at `gemmScratchBytes(m, n, k)` bytes of the same memory. Needs k > 0.
 */
export function gemmInto(
  ex: GemmExports,
  call: GemmCall,
  scratch: number,
  blocks: GemmBlocks = GEMM_BLOCKS,
): void {
  const { a, b, c, m, n, k, transA, transB } = call;
  const { mc: MC, kc: KC, nc: NC } = blocks;
  // Strides in bytes of element (row, depth) of A and (depth, column) of B.
  const smA = transA ? 4 : k * 4;
  const skA = transA ? m * 4 : 4;
  const skB = transB ? 4 : n * 4;
  const snB = transB ? k * 4 : 4;
  const aPack = scratch;
  const bPack = aPack + Math.ceil(Math.min(m, MC) / 4) * 4 * Math.min(k, KC) * 4;
  const tmp = bPack + Math.ceil(Math.min(n, NC) / 8) * 8 * Math.min(k, KC) * 4;
  for (let n0 = 0; n0 < n; n0 += NC) {
    const nc = Math.min(NC, n - n0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      ex.pack_b(b + k0 * skB + n0 * snB, bPack, kc, nc, skB, snB);
      for (let m0 = 0; m0 < m; m0 += MC) {
        const mcur = Math.min(MC, m - m0);
        ex.pack_a(a + m0 * smA + k0 * skA, aPack, mcur, kc, smA, skA);
        ex.gemm(aPack, bPack, mcur, nc, kc, c + (m0 * n + n0) * 4, n * 4, k0 > 0 ? 1 : 0, tmp);
      }
    }
  }
}
