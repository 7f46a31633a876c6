/**
 * GPT-2's reversible byte-to-unicode table ("Language Models are Unsupervised
 * Multitask Learners", Radford et al. 2019): printable Latin-1 bytes map to
 * themselves and the other 68 bytes to U+0100 onwards, so every byte sequence
 * is a string of visible characters (a space becomes `Ġ`, a newline `Ċ`).
 */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_UNICODE.map((ch, byte) => [ch, byte]),
);

function buildByteToUnicode(): string[] {
  const table = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable =
      (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    table[byte] = String.fromCharCode(printable ? byte : next++);
  }
  return table;
}

/** The byte-level string of some bytes (one character per byte). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += BYTE_TO_UNICODE[byte] as string;
  return out;
}

/**
 * The bytes of a byte-level string, or undefined when a character is not in
 * the table (the token was not byte-level).
 */
export function byteLevelToBytes(text: string): number[] | undefined {
  const bytes: number[] = [];
  for (const ch of text) {
    const byte = UNICODE_TO_BYTE.get(ch);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return bytes;
}
