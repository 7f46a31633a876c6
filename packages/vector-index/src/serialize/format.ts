import { VectorIndexError } from '../errors.js';
import { G_ENTRY, G_MAX_LEVEL, G_UPPER_USED, type Graph } from '../graph/graph.js';
import { HnswState } from '../hnsw-state.js';
import { METRIC_CODES, type Metric, metricFromCode } from '../metric.js';
import type { KernelChoice } from '../store/vector-store.js';
import { crc32 } from './crc32.js';

const MOD = 'format';
const MAGIC = 'PLXHNSW\0';
/** Version of the binary format written by this build. */
export const FORMAT_VERSION = 1;
const HEADER_BYTES = 88;

/*
 * Layout, little-endian:
 *   0  magic "PLXHNSW\0"      8  u32 version         12 u32 header bytes
 *   16 u32 metric code       20 u32 dim             24 u32 M
 *   28 u32 M0                32 u32 efConstruction  36 u32 count (slots)
 *   40 i32 entry point       44 i32 max level       48 u32 upper pool ints
 *   52 u32 rng state         56 u32 flags           60 u32 efSearch
 *   64 f64 level multiplier  72 f64 total file bytes
 *   80 u32 free slots        84 u32 reserved (0)
 * then the sections below (each a multiple of 4 bytes), then u32 CRC-32 of
 * everything before it.
 */

interface Sections {
  vectors: number;
  labels: number;
  levels: number;
  deleted: number;
  free: number;
  level0: number;
  upperOffset: number;
  upperPool: number;
}

const pad4 = (n: number): number => (n + 3) & ~3;

function sectionSizes(
  count: number,
  paddedDim: number,
  M0: number,
  upperUsed: number,
  free: number,
): Sections {
  return {
    vectors: count * paddedDim * 4,
    labels: count * 8,
    levels: pad4(count),
    deleted: pad4(count),
    // The free-slot stack in order, so inserts after a load pick the same slots.
    free: free * 4,
    level0: count * (M0 + 1) * 4,
    upperOffset: count * 4,
    upperPool: upperUsed * 4,
  };
}

const total = (s: Sections): number =>
  HEADER_BYTES + Object.values(s).reduce((a: number, b: number) => a + b, 0) + 4;

function checkLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new VectorIndexError(MOD, 'the binary format needs a little-endian platform');
  }
}

const bytesOf = (a: ArrayBufferView, n: number): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, n);

/** Serialise an index into the versioned, checksummed format (no copies of the graph beyond the output). */
export function serializeState(state: HnswState, efSearch: number): Uint8Array {
  checkLittleEndian();
  const { config, store, graph, count } = state;
  const upperUsed = graph.globals[G_UPPER_USED]!;
  const sizes = sectionSizes(count, store.paddedDim, config.M0, upperUsed, state.free.length);
  const out = new Uint8Array(total(sizes));
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, HEADER_BYTES, true);
  view.setUint32(16, METRIC_CODES[config.metric], true);
  view.setUint32(20, config.dim, true);
  view.setUint32(24, config.M, true);
  view.setUint32(28, config.M0, true);
  view.setUint32(32, config.efConstruction, true);
  view.setUint32(36, count, true);
  view.setInt32(40, graph.globals[G_ENTRY]!, true);
  view.setInt32(44, graph.globals[G_MAX_LEVEL]!, true);
  view.setUint32(48, upperUsed, true);
  view.setUint32(52, state.rng.seedState, true);
  view.setUint32(
    56,
    (config.extendCandidates ? 1 : 0) | (config.keepPrunedConnections ? 2 : 0),
    true,
  );
  view.setUint32(60, efSearch, true);
  view.setFloat64(64, config.levelMultiplier, true);
  view.setFloat64(72, out.length, true);
  view.setUint32(80, state.free.length, true);
  let at = HEADER_BYTES;
  const put = (src: Uint8Array, size: number): void => {
    out.set(src, at);
    at += size;
  };
  put(new Uint8Array(store.f32.buffer, store.vectorBase, sizes.vectors), sizes.vectors);
  put(bytesOf(state.labels, sizes.labels), sizes.labels);
  put(bytesOf(graph.levels, count), sizes.levels);
  put(bytesOf(state.deleted, count), sizes.deleted);
  put(new Uint8Array(Int32Array.from(state.free).buffer), sizes.free);
  put(bytesOf(graph.level0, sizes.level0), sizes.level0);
  put(bytesOf(graph.upperOffset, sizes.upperOffset), sizes.upperOffset);
  put(bytesOf(graph.upperPool, sizes.upperPool), sizes.upperPool);
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

/** Options checked while loading. */
export interface DeserializeOptions {
  readonly dim?: number;
  readonly metric?: Metric;
  readonly kernel?: KernelChoice;
}

/**
 * Restore an index from {@link serializeState} output: header checks, then
 * one copy per section into fresh buffers. The graph is not rebuilt.
 */
export function deserializeState(
  bytes: Uint8Array,
  options: DeserializeOptions,
): { state: HnswState; efSearch: number } {
  checkLittleEndian();
  if (!(bytes instanceof Uint8Array)) {
    throw new VectorIndexError(MOD, 'expected the index bytes as a Uint8Array');
  }
  if (bytes.length < HEADER_BYTES) {
    throw new VectorIndexError(
      MOD,
      `file is truncated: expected at least ${HEADER_BYTES} header bytes, got ${bytes.length}`,
    );
  }
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) {
      throw new VectorIndexError(
        MOD,
        'not a @plexus/vector-index HNSW file: expected magic "PLXHNSW"',
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    throw new VectorIndexError(
      MOD,
      `file has format version ${version}; this build reads version ${FORMAT_VERSION}`,
    );
  }
  const metric = metricFromCode(MOD, view.getUint32(16, true));
  const dim = view.getUint32(20, true);
  if (options.dim !== undefined && options.dim !== dim) {
    throw new VectorIndexError(
      MOD,
      `file holds vectors of dimension ${dim}; expected dimension ${options.dim}`,
    );
  }
  if (options.metric !== undefined && options.metric !== metric) {
    throw new VectorIndexError(MOD, `file uses metric '${metric}'; expected '${options.metric}'`);
  }
  const M = view.getUint32(24, true);
  const M0 = view.getUint32(28, true);
  const count = view.getUint32(36, true);
  const upperUsed = view.getUint32(48, true);
  const paddedDim = (dim + 3) & ~3;
  const freeCount = view.getUint32(80, true);
  const sizes = sectionSizes(count, paddedDim, M0, upperUsed, freeCount);
  const expected = total(sizes);
  if (view.getFloat64(72, true) !== expected || dim < 1 || M < 2 || M0 < M) {
    throw new VectorIndexError(
      MOD,
      'header is inconsistent (sizes do not match); the file is corrupted',
    );
  }
  if (bytes.length < expected) {
    throw new VectorIndexError(
      MOD,
      `file is truncated: expected ${expected} bytes, got ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new VectorIndexError(
      MOD,
      `file has ${bytes.length - expected} trailing bytes; expected exactly ${expected} bytes`,
    );
  }
  const stored = view.getUint32(expected - 4, true);
  if (crc32(bytes.subarray(0, expected - 4)) !== stored) {
    throw new VectorIndexError(MOD, 'checksum mismatch: the file is corrupted');
  }
  const flags = view.getUint32(56, true);
  const state = new HnswState(
    {
      dim,
      metric,
      M,
      M0,
      efConstruction: view.getUint32(32, true),
      levelMultiplier: view.getFloat64(64, true),
      extendCandidates: (flags & 1) !== 0,
      keepPrunedConnections: (flags & 2) !== 0,
      kernel: options.kernel ?? 'auto',
    },
    Math.max(count, 16),
    0,
  );
  state.rng.seedState = view.getUint32(52, true);
  const { store } = state;
  const graph: Graph = state.graph;
  let at = HEADER_BYTES;
  const take = (size: number): Uint8Array => {
    const src = bytes.subarray(at, at + size);
    at += size;
    return src;
  };
  new Uint8Array(store.f32.buffer, store.vectorBase, sizes.vectors).set(take(sizes.vectors));
  bytesOf(state.labels, sizes.labels).set(take(sizes.labels));
  bytesOf(graph.levels, count).set(take(sizes.levels).subarray(0, count));
  bytesOf(state.deleted, count).set(take(sizes.deleted).subarray(0, count));
  const free = new Int32Array(freeCount);
  bytesOf(free, sizes.free).set(take(sizes.free));
  bytesOf(graph.level0, sizes.level0).set(take(sizes.level0));
  bytesOf(graph.upperOffset, sizes.upperOffset).set(take(sizes.upperOffset));
  if (upperUsed > graph.upperPool.length) {
    graph.upperPool = new Int32Array(new SharedArrayBuffer(upperUsed * 4));
  }
  bytesOf(graph.upperPool, sizes.upperPool).set(take(sizes.upperPool));
  graph.globals[G_ENTRY] = view.getInt32(40, true);
  graph.globals[G_MAX_LEVEL] = view.getInt32(44, true);
  graph.globals[G_UPPER_USED] = upperUsed;
  state.count = count;
  for (let id = 0; id < count; id++) {
    if (state.deleted[id] === 1) state.deletedCount++;
    else state.idOf.set(state.labels[id]!, id);
  }
  for (const id of free) {
    if (id < 0 || id >= count || state.deleted[id] !== 1) {
      throw new VectorIndexError(
        MOD,
        `free slot ${id} is not a deleted slot; the file is corrupted`,
      );
    }
    state.free.push(id);
  }
  if (state.free.length !== state.deletedCount) {
    throw new VectorIndexError(
      MOD,
      'free-slot list does not match the deleted flags; the file is corrupted',
    );
  }
  return { state, efSearch: view.getUint32(60, true) };
}
