import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bundledDatasetDir,
  CsrGraph,
  formatEdgeList,
  GraphCoreError,
  loadDatasetFromDir,
  parseEdgeList,
  readEdgeList,
  readGraphologyJson,
  writeDatasetDir,
  writeEdgeList,
  writeGraphologyJson,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-core-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectFileError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(GraphCoreError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('edge lists', () => {
  it('parses comments, blank lines, tabs and weights', () => {
    const g = parseEdgeList('# header\n0 1 0.5\n\n1\t2   2 # trailing\r\n', { numNodes: 4 });
    expect(g.numNodes).toBe(4);
    expect(Array.from(g.indices)).toEqual([1, 0, 2, 1]);
    expect(Array.from(g.weights!)).toEqual([0.5, 0.5, 2, 2]);
  });

  it('round-trips through text and files (plain and gzip)', () => {
    const g = CsrGraph.fromEdges(5, [0, 1, 3, 4], [1, 2, 3, 0], { weights: [1, 2.5, 3, 4] });
    const back = parseEdgeList(formatEdgeList(g), { numNodes: 5 });
    expect(Array.from(back.indices)).toEqual(Array.from(g.indices));
    expect(Array.from(back.weights!)).toEqual(Array.from(g.weights!));
    for (const name of ['g.txt', 'g.txt.gz']) {
      const file = join(dir, name);
      writeEdgeList(file, g);
      expect(Array.from(readEdgeList(file, { numNodes: 5 }).indices)).toEqual(
        Array.from(g.indices),
      );
    }
  });

  it('names file and line for ragged rows, bad tokens and out-of-range ids', () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '# c\n0 1\n1 2 3\n');
    expectFileError(
      () => readEdgeList(file),
      /bad\.txt:3: expected 2 columns like the first data row \(line 2\), got 3/,
    );
    writeFileSync(file, '0 1\n1 x\n');
    expectFileError(() => readEdgeList(file), /bad\.txt:2: "x" is not a node id/);
    writeFileSync(file, '0 1\n\n1 7\n');
    expectFileError(
      () => readEdgeList(file, { numNodes: 5 }),
      /bad\.txt:3: node id 7 is out of range \[0, 5\)/,
    );
    writeFileSync(file, '0 1 w\n');
    expectFileError(() => readEdgeList(file), /bad\.txt:1: "w" is not a weight/);
    writeFileSync(file, '0 -1\n');
    expectFileError(() => readEdgeList(file), /bad\.txt:1: "-1" is not a node id/);
    writeFileSync(file, '3\n');
    expectFileError(() => readEdgeList(file), /bad\.txt:1: expected 2 or 3 columns/);
  });

  it('names the file of a truncated gzip', () => {
    const file = join(dir, 'cut.txt.gz');
    const gz = gzipSync('0 1\n1 2\n'.repeat(100));
    writeFileSync(file, gz.subarray(0, gz.length - 10));
    expectFileError(() => readEdgeList(file), /cut\.txt\.gz: not a complete gzip stream/);
    expectFileError(() => readEdgeList(join(dir, 'missing.txt')), /missing\.txt: cannot read file/);
  });
});

describe('graphology JSON files', () => {
  it('round-trips and reports syntax errors with a line', () => {
    const g = CsrGraph.fromEdges(3, [0, 1], [1, 2], { directed: true });
    const file = join(dir, 'g.json');
    writeGraphologyJson(file, g, { keys: ['a', 'b', 'c'] });
    const back = readGraphologyJson(file);
    expect(back.keys).toEqual(['a', 'b', 'c']);
    expect(Array.from(back.graph.indices)).toEqual([1, 2]);
    writeFileSync(file, '{\n  "nodes": [\n  oops\n]}');
    expectFileError(() => readGraphologyJson(file), /g\.json:3: invalid JSON/);
    writeFileSync(file, '{"nodes": 3}');
    expectFileError(() => readGraphologyJson(file), /g\.json: .*graphology/);
  });
});

describe('dataset directories', () => {
  it('writes and reads back the Planetoid format', () => {
    const g = CsrGraph.fromEdges(4, [0, 1, 1], [1, 2, 3])
      .withLabels(Int32Array.from([0, 1, -1, 1]))
      .withFeatures({
        indptr: Int32Array.from([0, 1, 1, 3, 4]),
        indices: Int32Array.from([2, 0, 1, 2]),
        values: Float32Array.from([1, 2, 3, 4]),
        dim: 3,
      });
    const out = join(dir, 'tiny');
    writeDatasetDir(out, {
      name: 'tiny',
      graph: g,
      split: { train: Int32Array.from([0]), val: Int32Array.from([1]), test: Int32Array.from([3]) },
      numClasses: 2,
    });
    const d = loadDatasetFromDir(out);
    expect(d.name).toBe('tiny');
    expect(Array.from(d.graph.indices)).toEqual(Array.from(g.indices));
    expect(Array.from(d.graph.labels!)).toEqual([0, 1, -1, 1]);
    expect(d.numFeatures).toBe(3);
    expect(Array.from(d.split.test)).toEqual([3]);
  });

  it('rejects corrupted, truncated and inconsistent files naming the file', () => {
    const copy = join(dir, 'cora-copy');
    cpSync(bundledDatasetDir('cora'), copy, { recursive: true });
    const labels = join(copy, 'labels.bin.gz');
    const good = readFileSync(labels);
    writeFileSync(labels, good.subarray(0, good.length - 20));
    expectFileError(() => loadDatasetFromDir(copy), /labels\.bin\.gz: not a complete gzip stream/);
    writeFileSync(labels, gzipSync(Buffer.alloc(2708 * 4)));
    expectFileError(
      () => loadDatasetFromDir(copy),
      /labels\.bin\.gz: SHA-256 .* does not match meta\.json/,
    );
    writeFileSync(labels, gzipSync(Buffer.alloc(16)));
    expectFileError(
      () => loadDatasetFromDir(copy),
      /labels\.bin\.gz: expected 2708 int32 elements/,
    );
    writeFileSync(labels, good);
    const metaFile = join(copy, 'meta.json');
    const meta = readFileSync(metaFile, 'utf8');
    writeFileSync(metaFile, meta.replace('"format_version": 1', '"format_version": "one"'));
    expectFileError(() => loadDatasetFromDir(copy), /meta\.json: format_version must be 1/);
    writeFileSync(metaFile, `${meta.slice(0, 200)}`);
    expectFileError(() => loadDatasetFromDir(copy), /meta\.json:\d+: invalid JSON/);
  });
});
