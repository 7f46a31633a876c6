import { MoeRoutingError } from '../errors.js';

/**
 * Contiguous expert placement: expert `e` lives on rank
 * `floor(e · worldSize / numExperts)`, so every rank holds
 * `numExperts / worldSize` experts when that divides (as in GShard and
 * DeepSpeed-MoE). Returns the owner rank of each expert.
 */
export function contiguousExpertPlacement(numExperts: number, worldSize: number): Int32Array {
  if (!Number.isInteger(numExperts) || numExperts < 1) {
    throw new MoeRoutingError(
      'expert-parallel',
      `numExperts must be a positive integer, got ${numExperts}`,
    );
  }
  if (!Number.isInteger(worldSize) || worldSize < 1 || worldSize > numExperts) {
    throw new MoeRoutingError(
      'expert-parallel',
      `worldSize must be an integer in [1, numExperts = ${numExperts}], got ${worldSize}`,
    );
  }
  const owner = new Int32Array(numExperts);
  for (let e = 0; e < numExperts; e++) owner[e] = Math.floor((e * worldSize) / numExperts);
  return owner;
}

/** Checks a placement: one owner in `[0, worldSize)` per expert. */
export function checkExpertPlacement(
  placement: Int32Array,
  numExperts: number,
  worldSize: number,
): void {
  if (!(placement instanceof Int32Array) || placement.length !== numExperts) {
    throw new MoeRoutingError(
      'expert-parallel',
      `placement must be an Int32Array with one owner rank per expert (${numExperts})`,
    );
  }
  for (let e = 0; e < numExperts; e++) {
    const r = placement[e]!;
    if (r < 0 || r >= worldSize) {
      throw new MoeRoutingError(
        'expert-parallel',
        `placement[${e}] = ${r} is not a rank in [0, ${worldSize})`,
      );
    }
  }
}
