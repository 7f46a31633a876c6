import { PlexusKvCacheError } from '../errors.js';

const MODULE = 'block-manager';

/** Throw unless every token is an integer (token ids key the prefix cache). */
export function checkTokens(tokens: ArrayLike<number>, what: string): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t))
      throw new PlexusKvCacheError(MODULE, `${what}[${i}] is ${t}; expected an integer token id`);
  }
}

/** Throw unless `ids` are distinct. */
export function checkDistinct(ids: readonly number[], what: string): void {
  if (new Set(ids).size !== ids.length)
    throw new PlexusKvCacheError(MODULE, `${what} lists a sequence twice; expected distinct ids`);
}
