/**
 * A variable-size all-to-all over float32 rows: `perPeer[p]` goes to rank
 * `p`, and the result's entry `p` is what rank `p` sent to this rank. Every
 * rank must call it the same number of times, in the same order. Any
 * transport fits: `@plexus/collectives` groups, or an in-process exchange
 * for tests.
 */
export type AllToAllV = (perPeer: readonly Float32Array[]) => Promise<Float32Array[]>;
