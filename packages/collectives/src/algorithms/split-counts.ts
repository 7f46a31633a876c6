import { PlexusCollectivesError } from '../errors.js';

/** Checks per-destination element counts against a buffer length; returns their prefix offsets. */
export function checkSplitCounts(
  module: string,
  counts: readonly number[],
  worldSize: number,
  length: number,
): number[] {
  if (!Array.isArray(counts) || counts.length !== worldSize) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected sendCounts to be an array of ${worldSize} counts, got ${Array.isArray(counts) ? `${counts.length} entries` : typeof counts}`,
    );
  }
  const offsets = [0];
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) {
      throw new PlexusCollectivesError(
        module,
        'invalid-argument',
        `expected sendCounts to hold non-negative integers, got ${String(c)}`,
      );
    }
    offsets.push(offsets[offsets.length - 1]! + c);
  }
  if (offsets[worldSize] !== length) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `sendCounts sum to ${offsets[worldSize]} but the buffer holds ${length} elements`,
    );
  }
  return offsets;
}

/** Equal splits: `length / worldSize` each; throws unless divisible. */
export function equalCounts(module: string, length: number, worldSize: number): number[] {
  if (length % worldSize !== 0) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `equal-split all-to-all needs a length divisible by worldSize ${worldSize}, got ${length} (pass sendCounts for variable splits)`,
    );
  }
  return new Array<number>(worldSize).fill(length / worldSize);
}

/**
 * Packs byte parts into one message: `[u32 parts][u32 byteLength]*[bytes]*`.
 * Lets variable-size pieces travel in one message without a separate
 * round of counts.
 */
export function packParts(parts: readonly Uint8Array[]): Uint8Array {
  const header = 4 + 4 * parts.length;
  let total = header;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, parts.length, true);
  let off = header;
  parts.forEach((p, i) => {
    view.setUint32(4 + 4 * i, p.byteLength, true);
    out.set(p, off);
    off += p.byteLength;
  });
  return out;
}

/** Inverse of `packParts`: views into `msg`, one per part. */
export function unpackParts(module: string, msg: Uint8Array): Uint8Array[] {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const bad = () =>
    new PlexusCollectivesError(module, 'mismatch', 'received a malformed packed message');
  if (msg.byteLength < 4) throw bad();
  const n = view.getUint32(0, true);
  const header = 4 + 4 * n;
  if (msg.byteLength < header) throw bad();
  const parts: Uint8Array[] = [];
  let off = header;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(4 + 4 * i, true);
    if (off + len > msg.byteLength) throw bad();
    parts.push(msg.subarray(off, off + len));
    off += len;
  }
  if (off !== msg.byteLength) throw bad();
  return parts;
}
