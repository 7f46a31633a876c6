/** Ids stay below this so a pair packs into one safe integer. */
export const MAX_TOKEN_ID = 2 ** 21;

/** One number for the ordered pair (left, right). */
export function pairKey(left: number, right: number): number {
  return left * MAX_TOKEN_ID + right;
}

/** The left id of a packed pair. */
export function pairLeft(key: number): number {
  return Math.floor(key / MAX_TOKEN_ID);
}

/** The right id of a packed pair. */
export function pairRight(key: number): number {
  return key % MAX_TOKEN_ID;
}
