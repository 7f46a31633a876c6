import { describe, expect, it } from 'vitest';
import {
  barabasiAlbert,
  CsrGraph,
  canonicalSign,
  fastRP,
  grid2d,
  laplacianPE,
  loadDataset,
  randomFeaturePropagation,
} from '../src/index.js';

describe('fastRP', () => {
  const g = barabasiAlbert(300, 3, { seed: 5 });

  it('is seeded, finite and unit-norm per used iteration', () => {
    const a = fastRP(g, { dim: 32, seed: 1, iterationWeights: [0, 0, 1] });
    expect(a.length).toBe(300 * 32);
    expect(Array.from(fastRP(g, { dim: 32, seed: 1, iterationWeights: [0, 0, 1] }))).toEqual(
      Array.from(a),
    );
    for (let u = 0; u < 300; u++) {
      let s = 0;
      for (let j = 0; j < 32; j++) s += a[u * 32 + j]! ** 2;
      expect(s).toBeCloseTo(1, 4);
    }
  });

  it('neighbours are more similar than random pairs', () => {
    const dim = 64;
    const e = fastRP(g, { dim, seed: 2 });
    const cos = (u: number, v: number) => {
      let d = 0;
      let nu = 0;
      let nv = 0;
      for (let j = 0; j < dim; j++) {
        d += e[u * dim + j]! * e[v * dim + j]!;
        nu += e[u * dim + j]! ** 2;
        nv += e[v * dim + j]! ** 2;
      }
      return d / Math.sqrt(nu * nv);
    };
    let nb = 0;
    let rnd = 0;
    for (let u = 0; u < 100; u++) {
      nb += cos(u, g.neighbours(u)[0]!);
      rnd += cos(u, (u * 37 + 101) % 300);
    }
    expect(nb).toBeGreaterThan(rnd);
  });
});

describe('laplacianPE', () => {
  it('gives a canonical sign and optional random flips', () => {
    const g = grid2d(4, 5).graph;
    const a = laplacianPE(g, 3);
    for (let j = 0; j < 3; j++) {
      const col = Array.from({ length: g.numNodes }, (_, u) => a.pe[u * 3 + j]!);
      expect(canonicalSign(col)).toBe(1);
    }
    const flips = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      const b = laplacianPE(g, 3, { sign: 'random', seed });
      const signs = [0, 1, 2].map((j) => Math.sign(b.pe[j]! * a.pe[j]!) || 1);
      flips.add(signs.join(','));
      for (let j = 0; j < 3; j++) expect(b.eigenvalues[j]!).toBeCloseTo(a.eigenvalues[j]!, 8);
    }
    expect(flips.size).toBeGreaterThan(1);
  });

  it('pads when k exceeds the non-trivial spectrum and handles isolated nodes', () => {
    const g = CsrGraph.fromEdges(4, [0], [1]);
    const pe = laplacianPE(g, 3);
    // Components {0,1}, {2}, {3}: one non-trivial eigenvalue (2).
    expect(pe.eigenvalues[0]).toBeCloseTo(2, 8);
    expect(Number.isNaN(pe.eigenvalues[1]!)).toBe(true);
    expect(pe.pe[1]).toBe(0);
    expect(() => laplacianPE(CsrGraph.fromEdges(2, [0], [1], { directed: true }), 1)).toThrow(
      /undirected/,
    );
  });

  it('returns every copy of repeated eigenvalues (torus: multiplicities 4 and 8)', () => {
    const a = 12;
    const g = grid2d(a, a, { periodic: true }).graph;
    const exact: number[] = [];
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < a; j++) {
        exact.push(1 - (Math.cos((2 * Math.PI * i) / a) + Math.cos((2 * Math.PI * j) / a)) / 2);
      }
    }
    exact.sort((x, y) => x - y);
    const { eigenvalues } = laplacianPE(g, 12);
    for (let j = 0; j < 12; j++) expect(eigenvalues[j]!).toBeCloseTo(exact[j + 1]!, 8);
  });

  it('converges on Cora (78 components deflated)', () => {
    const cora = loadDataset('cora').graph;
    const { eigenvalues } = laplacianPE(cora, 4);
    for (let j = 0; j < 4; j++) expect(eigenvalues[j]!).toBeGreaterThan(1e-6);
    for (let j = 1; j < 4; j++)
      expect(eigenvalues[j]!).toBeGreaterThanOrEqual(eigenvalues[j - 1]! - 1e-9);
  });
});

describe('randomFeaturePropagation', () => {
  it('returns the normalised trajectory', () => {
    const g = grid2d(5, 5).graph;
    const r = randomFeaturePropagation(g, { channels: 4, steps: 3, seed: 1 });
    expect(r.length).toBe(25 * 16);
    for (let c = 0; c < 16; c++) {
      let s = 0;
      for (let u = 0; u < 25; u++) s += r[u * 16 + c]! ** 2;
      expect(s).toBeCloseTo(1, 4);
    }
    const o = randomFeaturePropagation(g, {
      channels: 4,
      steps: 2,
      normalization: 'orthonormal',
      operator: 'random-walk',
    });
    let dot = 0;
    for (let u = 0; u < 25; u++) dot += o[u * 12 + 8]! * o[u * 12 + 9]!;
    expect(Math.abs(dot)).toBeLessThan(1e-4);
  });
});

describe('spmmDense', () => {
  it('matches a naive product for widths that are and are not multiples of 4', async () => {
    const { spmmDense } = await import('../src/embeddings/dense-ops.js');
    const g = barabasiAlbert(40, 2, { seed: 9 });
    for (const dim of [1, 3, 4, 7, 8]) {
      const x = Float32Array.from({ length: 40 * dim }, (_, i) => ((i * 7919) % 13) - 6);
      for (const weights of [
        undefined,
        Float32Array.from({ length: g.numEdges }, (_, p) => 1 + (p % 3)),
      ]) {
        const out = new Float32Array(40 * dim);
        spmmDense(g.indptr, g.indices, weights, x, dim, out);
        for (let u = 0; u < 40; u++) {
          for (let j = 0; j < dim; j++) {
            let s = 0;
            for (let p = g.indptr[u]!; p < g.indptr[u + 1]!; p++)
              s += (weights?.[p] ?? 1) * x[g.indices[p]! * dim + j]!;
            expect(out[u * dim + j]).toBeCloseTo(s, 4);
          }
        }
      }
    }
  });
});
