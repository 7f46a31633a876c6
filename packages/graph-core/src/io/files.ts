import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { GraphCoreError } from '../errors.js';
import { jsonErrorOffset } from './json-error.js';

/** An error about `file` (and `line`, when known), in the `io` module. */
export function fileError(
  file: string,
  line: number | undefined,
  message: string,
  cause?: unknown,
): GraphCoreError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new GraphCoreError(
    'io',
    `${where}: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Read a file, gunzipping it when its name ends in `.gz`; I/O and gzip errors name the file. */
export function readMaybeGzip(file: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (cause) {
    throw fileError(file, undefined, `cannot read file (${(cause as Error).message})`, cause);
  }
  if (!file.endsWith('.gz')) return raw;
  try {
    return gunzipSync(raw);
  } catch (cause) {
    throw fileError(
      file,
      undefined,
      `not a complete gzip stream, the file is truncated or corrupt (${(cause as Error).message})`,
      cause,
    );
  }
}

/** 1-based line number of character offset `pos` in `text`. */
export function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `JSON.parse` whose syntax errors name the file and line. */
export function parseJsonFile(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const msg = (cause as Error).message;
    const line = lineOf(text, jsonErrorOffset(text));
    throw fileError(file, line, `invalid JSON (${msg})`, cause);
  }
}
