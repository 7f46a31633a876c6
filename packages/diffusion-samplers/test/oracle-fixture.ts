// Shared loader for the Gaussian-mixture oracle fixtures (copied from the
// anchors; see fixtures/README.md). Test-only helper, not part of the package.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GaussianMixture } from '../src/oracle/gmm.js';
import { PortableRng } from '../src/oracle/portable-rng.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface OracleCell {
  grid: 'trailing' | 'karras';
  solver: 'ddim' | 'euler' | 'heun' | 'dpmpp_2m';
  nfe_budget: number;
  steps: number;
  nfe: number;
  mean_l2: number;
  f32_mean_l2: number;
  f32_vs_f64_mean_l2: number;
  sw2: number;
  probe_sample0: [number, number];
  probe_mean: number;
}

interface ReferenceJson {
  spec: { grids_used: Record<string, { timesteps: number[] | null; sigmas: number[] }> };
  datasets: {
    gmm2d: {
      mixture: GaussianMixture;
      seeds: { noise: number; exact_a: number; exact_b: number };
      n_sw: number;
      n_err: number;
      floors: { sw2_exactA_vs_exactB: number; sw2_refODE_vs_exactA: number };
    };
  };
  results: OracleCell[];
}

interface FixturesJson {
  gmm2d: {
    noise_n: number;
    dim: number;
    noise_seed: number;
    noise_first8: number[];
    noise_sum: number;
    exact_a_first4: number[];
    ref_endpoints: number[][];
  };
}

export const reference = JSON.parse(
  readFileSync(join(here, 'fixtures', 'gmm2d_reference.json'), 'utf8'),
) as ReferenceJson;
export const fixtures = JSON.parse(
  readFileSync(join(here, 'fixtures', 'gmm2d_fixtures.json'), 'utf8'),
) as FixturesJson;

export const dataset = reference.datasets.gmm2d;
export const mixture: GaussianMixture = dataset.mixture;
export const DIM = 2;

/** All n_sw noises (row i = noise i), regenerated from the seed. */
export function allNoises(): Float64Array {
  return new PortableRng(dataset.seeds.noise).normals(dataset.n_sw * DIM);
}

/** Reference PF-ODE end points of the first n_err noises, flattened. */
export function referenceEndpoints(): Float64Array {
  return Float64Array.from(fixtures.gmm2d.ref_endpoints.flat());
}

/** The anchor's grid for a family and step count. */
export function anchorGrid(grid: 'trailing' | 'karras', steps: number) {
  const g = reference.spec.grids_used[`${grid}_N${steps}`];
  if (g === undefined) throw new Error(`no anchor grid ${grid}_N${steps}`);
  return g;
}
