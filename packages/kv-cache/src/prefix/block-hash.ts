/**
 * Chained block hashes for prefix caching. A full block's key mixes its
 * parent block's key, the tenant salt and its tokens, so equal keys mean
 * (up to a 64-bit collision) equal whole prefixes for the same tenant: two
 * tenants never share KV even for identical prompts.
 */

/** A 64-bit block key written as 16 hex digits (string keys are fast Map keys). */
export type BlockHash = string;

const SEED_A = 0x2f6b_1c3d;
const SEED_B = 0x7a51_90e3;

// Murmur3's 32-bit block mix; two lanes with different seeds give 64 bits.
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex(a: number, b: number): BlockHash {
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** The root key of a tenant: what block 0 of every sequence chains from. */
export function saltHash(salt: string): BlockHash {
  let a = SEED_A;
  let b = SEED_B;
  for (let i = 0; i < salt.length; i++) {
    const c = salt.charCodeAt(i);
    a = mix(a, c);
    b = mix(b, c ^ 0x5bd1e995);
  }
  return hex(finish(a, salt.length), finish(b, salt.length));
}

/**
 * Key of the block holding `tokens[start, start + blockSize)`, chained from
 * `parent` (the previous block's key, or {@link saltHash} for block 0).
 */
export function chainedBlockHash(
  parent: BlockHash,
  salt: BlockHash,
  tokens: ArrayLike<number>,
  start: number,
  blockSize: number,
): BlockHash {
  const p0 = Number.parseInt(parent.slice(0, 8), 16);
  const p1 = Number.parseInt(parent.slice(8), 16);
  const s0 = Number.parseInt(salt.slice(0, 8), 16);
  const s1 = Number.parseInt(salt.slice(8), 16);
  let a = mix(mix(mix(SEED_A, p0), p1), s0);
  let b = mix(mix(mix(SEED_B, p1), p0), s1);
  for (let i = 0; i < blockSize; i++) {
    const t = tokens[start + i]! | 0;
    a = mix(a, t);
    b = mix(b, t ^ 0x27d4eb2f);
  }
  return hex(finish(a, blockSize), finish(b, blockSize));
}
