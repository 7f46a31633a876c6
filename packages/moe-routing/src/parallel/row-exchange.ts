import { MoeRoutingError } from '../errors.js';

/** Rows packed for each peer, and which assignments went where (in order). */
export interface PackedRows {
  /** One buffer per peer. */
  readonly perPeer: Float32Array[];
  /** For each peer, the assignments whose rows its buffer holds, in buffer order. */
  readonly order: Int32Array[];
}

/** Rows received for this rank's experts, grouped by expert. */
export interface ReceivedRows {
  /** Number of rows each peer sent (the length of its reply). */
  readonly rowsPerPeer: number[];
  /** Per owned expert: its input rows, and the (peer, slot) each row came from. */
  readonly byExpert: Map<number, { rows: Float32Array; peer: Int32Array; slot: Int32Array }>;
}

/**
 * Packs one row per assignment into per-peer buffers. With `expertIndex`
 * each row is prefixed by its expert id (exact in float32 below 2^24), so
 * the receiver can group rows without a second message. Rows are read from
 * `values` at `rowIndex[a]` (token rows) or at `a` (per-assignment rows);
 * `order` reuses an earlier packing's order so replies line up.
 */
export function sendRows(
  values: Float32Array,
  width: number,
  rowIndex: Int32Array | null,
  owner: Int32Array,
  expertIndex: Int32Array | null,
  worldSize: number,
  order?: Int32Array[],
): PackedRows {
  const byPeer = order ?? groupByOwner(owner, worldSize);
  const stride = expertIndex ? width + 1 : width;
  const perPeer = byPeer.map((assignments) => {
    const buf = new Float32Array(assignments.length * stride);
    for (let i = 0; i < assignments.length; i++) {
      const a = assignments[i]!;
      const src = (rowIndex ? rowIndex[a]! : a) * width;
      let o = i * stride;
      if (expertIndex) buf[o++] = expertIndex[a]!;
      buf.set(values.subarray(src, src + width), o);
    }
    return buf;
  });
  return { perPeer, order: byPeer };
}

function groupByOwner(owner: Int32Array, worldSize: number): Int32Array[] {
  const counts = new Int32Array(worldSize);
  for (const r of owner) counts[r]!++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(worldSize);
  for (let a = 0; a < owner.length; a++) {
    const r = owner[a]!;
    out[r]![fill[r]!++] = a;
  }
  return out;
}

/** Unpacks expert-id-prefixed rows from every peer and groups them by expert. */
export function receiveRows(
  perPeer: readonly Float32Array[],
  width: number,
  checkExpert: (expert: number) => void,
): ReceivedRows {
  const stride = width + 1;
  const rowsPerPeer = perPeer.map((buf, p) => {
    if (buf.length % stride !== 0) {
      throw new MoeRoutingError(
        'expert-parallel',
        `rank ${p} sent ${buf.length} values, not a whole number of ${stride}-wide rows`,
      );
    }
    return buf.length / stride;
  });
  const lists = new Map<number, { peer: number[]; slot: number[] }>();
  perPeer.forEach((buf, p) => {
    for (let i = 0; i < rowsPerPeer[p]!; i++) {
      const e = buf[i * stride]!;
      let list = lists.get(e);
      if (!list) {
        checkExpert(e);
        list = { peer: [], slot: [] };
        lists.set(e, list);
      }
      list.peer.push(p);
      list.slot.push(i);
    }
  });
  const byExpert: ReceivedRows['byExpert'] = new Map();
  for (const [e, { peer, slot }] of [...lists].sort((a, b) => a[0] - b[0])) {
    const rows = new Float32Array(peer.length * width);
    for (let i = 0; i < peer.length; i++) {
      const o = slot[i]! * stride + 1;
      rows.set(perPeer[peer[i]!]!.subarray(o, o + width), i * width);
    }
    byExpert.set(e, { rows, peer: Int32Array.from(peer), slot: Int32Array.from(slot) });
  }
  return { rowsPerPeer, byExpert };
}

/** Puts replies (one row per packed assignment, in `order`) back in assignment order. */
export function unsortRows(
  perPeer: readonly Float32Array[],
  width: number,
  order: readonly Int32Array[],
  numAssignments: number,
): Float32Array {
  const out = new Float32Array(numAssignments * width);
  order.forEach((assignments, p) => {
    const buf = perPeer[p]!;
    if (buf.length !== assignments.length * width) {
      throw new MoeRoutingError(
        'expert-parallel',
        `rank ${p} replied with ${buf.length} values, expected ${assignments.length * width}`,
      );
    }
    for (let i = 0; i < assignments.length; i++) {
      out.set(buf.subarray(i * width, (i + 1) * width), assignments[i]! * width);
    }
  });
  return out;
}
