import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alphasCumprod,
  betaSchedule,
  DiffusionSamplersError,
  DiscreteVpSchedule,
  exponentialSigmas,
  karrasSigmas,
  roundHalfEven,
  sigmaGrid,
  timestepSpacing,
  validateSigmas,
  vpGrid,
} from '../src/index.js';
import { reference } from './oracle-fixture.js';

describe('beta schedules', () => {
  it('linear matches the anchor (NumPy float64)', () => {
    const abar = alphasCumprod(betaSchedule('linear'));
    expect(abar[0]).toBe(0.9999);
    expect(abar[999]! / 4.035829765375676e-5 - 1).toBeLessThan(1e-12);
  });

  it('scaled_linear, squaredcos_cap_v2 and sigmoid have their defining values', () => {
    const sl = betaSchedule('scaled_linear', { betaStart: 0.00085, betaEnd: 0.012 });
    expect(sl[0]).toBeCloseTo(0.00085, 15);
    expect(sl[999]).toBeCloseTo(0.012, 15);
    expect(sl[500]).toBeCloseTo(
      (Math.sqrt(0.00085) + (500 / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2,
      12,
    );
    const cos = betaSchedule('squaredcos_cap_v2');
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    const abar = alphasCumprod(cos);
    expect(abar[499]! / (f(0.5) / f(0)) - 1).toBeLessThan(1e-9);
    expect(cos[999]).toBe(0.999); // the cap
    const sig = betaSchedule('sigmoid');
    expect(sig[0]).toBeCloseTo(1e-4 + (0.02 - 1e-4) / (1 + Math.exp(6)), 14);
    for (let i = 1; i < 1000; i++) expect(sig[i]).toBeGreaterThan(sig[i - 1]!);
  });

  it('rejects bad settings with a module-prefixed message', () => {
    expect(() => betaSchedule('linear', { numTrainTimesteps: 0 })).toThrow(
      /^@plexus\/diffusion-samplers\/betas: numTrainTimesteps must be an integer >= 2/,
    );
    expect(() => betaSchedule('quadratic' as 'linear')).toThrow(
      /unknown beta schedule 'quadratic'/,
    );
  });
});

describe('timestep spacing', () => {
  it('trailing matches the anchor grids (NumPy round-half-even)', () => {
    for (const n of [3, 5, 10, 20, 25, 50]) {
      const ts = timestepSpacing(1000, n, 'trailing');
      expect(Array.from(ts)).toEqual(reference.spec.grids_used[`trailing_N${n}`]!.timesteps);
    }
  });

  it('leading and linspace match diffusers', () => {
    // diffusers DDIM, 10 steps, steps_offset 1 / linspace.
    expect(Array.from(timestepSpacing(1000, 10, 'leading', 1))).toEqual([
      901, 801, 701, 601, 501, 401, 301, 201, 101, 1,
    ]);
    expect(Array.from(timestepSpacing(1000, 10, 'linspace'))).toEqual([
      999, 888, 777, 666, 555, 444, 333, 222, 111, 0,
    ]);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
  });

  it('karras matches the anchor and VP time round-trips sigma', () => {
    const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
    const k = karrasSigmas(10, schedule.sigmaMin, schedule.sigmaMax);
    reference.spec.grids_used['karras_N10']!.sigmas.slice(0, 10).forEach((s, i) => {
      expect(k[i]! / s - 1).toBeLessThan(1e-12);
    });
    fc.assert(
      fc.property(fc.double({ min: 0, max: 999, noNaN: true }), (t) => {
        const s = schedule.sigmaAt(t);
        expect(Math.abs(schedule.timeOf(s) - t)).toBeLessThan(1e-6);
      }),
      { numRuns: 200 },
    );
    const e = exponentialSigmas(5, 0.01, 100);
    expect(e[0]).toBeCloseTo(100, 10);
    expect(e[4]).toBeCloseTo(0.01, 12);
    expect(e[2]).toBeCloseTo(1, 10);
  });

  it('grids are strictly decreasing and end at 0 or sigma_min', () => {
    const schedule = DiscreteVpSchedule.fromBetaSchedule('scaled_linear', {
      betaStart: 0.00085,
      betaEnd: 0.012,
    });
    fc.assert(
      fc.property(
        // One leading/linspace step is t = 0 itself: nothing to step with 'min'.
        fc.integer({ min: 2, max: 200 }),
        fc.constantFrom('leading', 'trailing', 'linspace', 'karras', 'exponential' as const),
        fc.constantFrom('zero', 'min' as const),
        (n, spacing, final) => {
          const g = vpGrid(schedule, n, { spacing, final });
          validateSigmas(g.sigmas);
          expect(g.sigmas[g.sigmas.length - 1]).toBe(final === 'zero' ? 0 : schedule.sigmaMin);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('sigma schedule validation', () => {
  it.each([
    [[10, 5, 5, 0], /strictly decreasing; sigmas\[1\] = 5 then sigmas\[2\] = 5/],
    [[10, 12, 0], /strictly decreasing/],
    [[10, 1, -1], /finite and non-negative; sigmas\[2\] = -1/],
    [[10, Number.NaN, 0], /finite and non-negative/],
    [[10], /at least 2 points/],
    [[0, 0], /strictly decreasing|start above 0/],
  ])('rejects %j', (sigmas, message) => {
    let caught: unknown;
    try {
      sigmaGrid(sigmas);
    } catch (error) {
      caught = error;
    }
    expect(DiffusionSamplersError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/^@plexus\/diffusion-samplers\/grid: /);
    expect((caught as Error).message).toMatch(message);
  });

  it('rejects a one-step grid that is already at t = 0', () => {
    const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
    expect(() => vpGrid(schedule, 1, { spacing: 'leading', final: 'min' })).toThrow(
      /at least 2 points/,
    );
  });

  it('rejects zero or negative step counts', () => {
    const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
    expect(() => vpGrid(schedule, 0, { spacing: 'trailing' })).toThrow(
      /^@plexus\/diffusion-samplers\/grid: number of steps must be a positive integer, got 0/,
    );
    expect(() => vpGrid(schedule, -3, { spacing: 'karras' })).toThrow(/positive integer, got -3/);
    expect(() => vpGrid(schedule, 2.5, { spacing: 'karras' })).toThrow(/positive integer/);
  });
});
