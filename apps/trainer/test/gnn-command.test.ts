import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGnn } from '../src/commands/gnn.js';
import { parseGnnOptions } from '../src/commands/gnn-options.js';

describe('plexus-train gnn', () => {
  it('trains, writes metrics per epoch, a summary and a plot', async () => {
    const out = mkdtempSync(join(tmpdir(), 'plexus-train-'));
    const lines: string[] = [];
    const summary = await runGnn(
      ['--model', 'gcn', '--seeds', '2', '--epochs', '30', '--backend', 'wasm', '--out', out],
      (l) => lines.push(l),
    );
    expect(summary.finished).toBe(true);
    expect(summary.seeds).toHaveLength(2);
    expect(summary.testAcc.mean).toBeGreaterThan(0.6);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(60);
    expect(metrics[0]).toMatchObject({ seed: 0, epoch: 0 });
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).seeds).toHaveLength(2);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*seed 1 val acc[\s\S]*<\/svg>$/,
    );
    expect(lines.at(-2)).toMatch(/^\| cora \| gcn \| 2 \| \d+\.\d ± \d+\.\d \|/);
    expect(existsSync(out)).toBe(true);
  });

  it('rejects bad options with what is accepted', () => {
    expect(() => parseGnnOptions(['--model', 'mlp'])).toThrow(
      /--model 'mlp' is not known; accepted: gcn, sage, gin, gat, gatv2/,
    );
    expect(() => parseGnnOptions(['--seeds=-3'])).toThrow(
      /--seeds must be a positive integer, got '-3'/,
    );
    expect(() => parseGnnOptions(['--backend', 'cuda'])).toThrow(
      /accepted: auto, tfjs-node-gpu, webgpu/,
    );
    expect(() => parseGnnOptions(['--lr', '3'])).toThrow(/Unknown option '--lr'/);
    expect(parseGnnOptions([])).toMatchObject({
      dataset: 'cora',
      model: 'gcn',
      seeds: 10,
      backend: 'auto',
    });
  });

  it('says when a dataset cannot be found', async () => {
    await expect(runGnn(['--dataset', '/nonexistent/dir'])).rejects.toThrow(
      /neither a bundled dataset \(cora\) nor a directory/,
    );
  });
});
