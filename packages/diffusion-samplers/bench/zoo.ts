// The samplers the benchmarks compare, with how a budget B maps to steps.
import {
  createDdim,
  createDpmSolverPlusPlus,
  createEuler,
  createHeun,
  createLms,
  createPndm,
  createUniPc,
  type SamplerV1,
} from '../src/index.js';

/** A benchmarked sampler and its budget-to-steps rule. */
export interface ZooEntry {
  name: string;
  make: (final: 'zero' | 'min') => SamplerV1;
  /** Steps for an NFE budget B (grid ending at 0). */
  steps: (budget: number) => number;
}

/** The deterministic samplers the benchmarks compare. */
export const zoo: ZooEntry[] = [
  { name: 'ddim', make: () => createDdim(), steps: (b) => b },
  { name: 'euler', make: () => createEuler(), steps: (b) => b },
  { name: 'heun', make: () => createHeun(), steps: (b) => Math.floor((b + 1) / 2) },
  {
    name: 'dpmpp-2m',
    make: (f) => createDpmSolverPlusPlus({ lowerOrderFinal: f === 'zero' }),
    steps: (b) => b,
  },
  {
    name: 'dpmpp-3m',
    make: (f) => createDpmSolverPlusPlus({ order: 3, lowerOrderFinal: f === 'zero' }),
    steps: (b) => b,
  },
  {
    name: 'dpmpp-3m-diffusers',
    make: (f) =>
      createDpmSolverPlusPlus({ order: 3, lowerOrderFinal: f === 'zero', thirdOrder: 'diffusers' }),
    steps: (b) => b,
  },
  {
    name: 'unipc-2',
    make: (f) => createUniPc({ order: 2, lowerOrderFinal: f === 'zero' }),
    steps: (b) => b,
  },
  {
    name: 'unipc-3',
    make: (f) => createUniPc({ order: 3, lowerOrderFinal: f === 'zero' }),
    steps: (b) => b,
  },
  { name: 'lms', make: () => createLms(), steps: (b) => b },
  { name: 'pndm', make: () => createPndm(), steps: (b) => Math.max(1, b - 1) },
];
