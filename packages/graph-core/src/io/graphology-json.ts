import { writeFileSync } from 'node:fs';
import type { SerializedGraph } from 'graphology-types';
import type { CsrGraph } from '../csr/csr-graph.js';
import {
  type FromGraphologyOptions,
  type FromGraphologyResult,
  fromGraphologyJSON,
  type ToGraphologyOptions,
  toGraphologyJSON,
} from '../graphology/bridge.js';
import { fileError, parseJsonFile, readMaybeGzip } from './files.js';

/** Read a graphology JSON file (`graph.export()` format, gzip if `.gz`); errors name the file (and line for syntax errors). */
export function readGraphologyJson(
  file: string,
  options: FromGraphologyOptions = {},
): FromGraphologyResult {
  const json = parseJsonFile(file, readMaybeGzip(file).toString('utf8'));
  try {
    return fromGraphologyJSON(json as SerializedGraph, options);
  } catch (cause) {
    throw fileError(file, undefined, (cause as Error).message, cause);
  }
}

/** Write a CSR graph as a graphology JSON file. */
export function writeGraphologyJson(
  file: string,
  graph: CsrGraph,
  options: ToGraphologyOptions = {},
): void {
  try {
    writeFileSync(file, JSON.stringify(toGraphologyJSON(graph, options)));
  } catch (cause) {
    throw fileError(file, undefined, `cannot write file (${(cause as Error).message})`, cause);
  }
}
