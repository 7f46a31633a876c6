import { frameCrc32 } from './crc32.js';

/** `PLXF` as a little-endian u32: the first four bytes of every frame. */
export const FRAME_MAGIC = 0x46584c50;
/** Wire protocol version; a peer speaking another one is rejected. */
export const FRAME_VERSION = 1;
/** Bytes of the fixed frame header. */
export const HEADER_BYTES = 40;

/** Header flag: the CRC field is set and must be checked. */
export const FLAG_CRC = 1;

/** Frame types. */
export const FrameType = {
  /** Acceptor -> connector: a random nonce to authenticate against. */
  challenge: 1,
  /** Connector -> acceptor: rank, connection index, nonce and HMAC. */
  hello: 2,
  /** Acceptor -> connector: accepted, with the acceptor's HMAC. */
  welcome: 3,
  /** Acceptor -> connector: refused, payload is the reason in UTF-8. */
  reject: 4,
  /** A piece of a message: bytes `[offset, offset + length)` of message `msgSeq`. */
  data: 5,
} as const;

/**
 * Decoded frame header. Layout (little-endian): magic u32, version u8,
 * type u8, flags u16, seq u32, payloadLength u32, crc u32, msgSeq u32,
 * msgLength u64, offset u64.
 */
export interface FrameHeader {
  type: number;
  /** `FLAG_CRC` when the frame carries a checksum. */
  flags: number;
  /** Per-connection, per-direction frame counter; must grow by exactly one. */
  seq: number;
  payloadLength: number;
  /** CRC32 over the header (without this field) and the payload; 0 without `FLAG_CRC`. */
  crc: number;
  msgSeq: number;
  msgLength: number;
  offset: number;
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value >>> 0, true);
  view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
}

function getU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

/** CRC32 of the header bytes other than the CRC field itself, continued over the payload by the caller. */
export function headerCrc(header: Uint8Array): number {
  const crc32 = frameCrc32().fn;
  return crc32(header.subarray(20, HEADER_BYTES), crc32(header.subarray(0, 16), 0));
}

/** Continues `crc` over `bytes`. */
export function crcUpdate(bytes: Uint8Array, crc: number): number {
  // Node 20's crc32 returns 0 for some empty views (no backing store) instead of `crc`.
  return bytes.byteLength === 0 ? crc : frameCrc32().fn(bytes, crc);
}

/**
 * Encodes a header for `payload` (whose CRC is computed here when
 * `checksum` is set). `payload` may be a view into a larger buffer; it is
 * not copied.
 */
export function encodeHeader(
  fields: Omit<FrameHeader, 'crc' | 'payloadLength' | 'flags'>,
  payload: Uint8Array,
  checksum = true,
): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES);
  const view = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint8(4, FRAME_VERSION);
  view.setUint8(5, fields.type);
  view.setUint16(6, checksum ? FLAG_CRC : 0, true);
  view.setUint32(8, fields.seq >>> 0, true);
  view.setUint32(12, payload.byteLength, true);
  view.setUint32(20, fields.msgSeq >>> 0, true);
  setU64(view, 24, fields.msgLength);
  setU64(view, 32, fields.offset);
  view.setUint32(16, checksum ? crcUpdate(payload, headerCrc(out)) : 0, true);
  return out;
}

/** Why a header is malformed, or undefined if magic and version are right. */
export function decodeHeader(bytes: Uint8Array): FrameHeader | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint32(0, true) !== FRAME_MAGIC) return 'bad magic (not a @plexus/collectives peer)';
  const version = view.getUint8(4);
  if (version !== FRAME_VERSION) {
    return `protocol version ${version}, expected ${FRAME_VERSION}`;
  }
  const type = view.getUint8(5);
  if (type < FrameType.challenge || type > FrameType.data) return `unknown frame type ${type}`;
  const flags = view.getUint16(6, true);
  if ((flags & ~FLAG_CRC) !== 0) return `unknown header flags ${flags}`;
  return {
    type,
    flags,
    seq: view.getUint32(8, true),
    payloadLength: view.getUint32(12, true),
    crc: view.getUint32(16, true),
    msgSeq: view.getUint32(20, true),
    msgLength: getU64(view, 24),
    offset: getU64(view, 32),
  };
}
