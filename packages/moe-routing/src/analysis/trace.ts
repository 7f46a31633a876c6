import { MoeRoutingError } from '../errors.js';

/** A routing trace: for each token in order, the experts it activated (one layer). */
export type RoutingTrace = readonly (readonly number[])[];

/** Build a per-token trace from the assignment arrays of a routing (or `MoEForwardResult.trace`). */
export function traceFromAssignments(
  tokenIndex: Int32Array,
  expertIndex: Int32Array,
  numTokens: number,
): number[][] {
  const trace: number[][] = Array.from({ length: numTokens }, () => []);
  for (let a = 0; a < tokenIndex.length; a++) {
    const t = tokenIndex[a]!;
    if (t < 0 || t >= numTokens) {
      throw new MoeRoutingError('trace', `token index ${t} is outside [0, ${numTokens})`);
    }
    trace[t]!.push(expertIndex[a]!);
  }
  for (const experts of trace) experts.sort((x, y) => x - y);
  return trace;
}

/** Throw unless every expert id in `trace` is an integer in `[0, numExperts)`. */
export function checkTrace(module: string, trace: RoutingTrace, numExperts: number): void {
  if (!Array.isArray(trace))
    throw new MoeRoutingError(module, 'trace must be an array of per-token expert lists');
  for (let t = 0; t < trace.length; t++) {
    for (const e of trace[t]!) {
      if (!Number.isInteger(e) || e < 0 || e >= numExperts) {
        throw new MoeRoutingError(
          module,
          `trace[${t}] names expert ${e}; expected an integer in [0, ${numExperts})`,
        );
      }
    }
  }
}
