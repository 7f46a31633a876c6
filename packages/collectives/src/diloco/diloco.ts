import { allReduce } from '../algorithms/collectives.js';
import type { FloatArray } from '../compression/codecs.js';
import { PlexusCollectivesError } from '../errors.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import { outerNesterovStep } from './outer-nesterov.js';

const MODULE = 'diloco';

/** Options of `createDiLoCo`. */
export interface DiLoCoOptions {
  /** Inner steps between outer steps, `H` in the paper (e.g. 500). */
  innerSteps: number;
  /** Outer learning rate (default 0.7, the paper's). */
  outerLr?: number;
  /** Outer momentum (default 0.9, the paper's). */
  outerMomentum?: number;
  /** Nesterov momentum (default true, the paper's); false gives heavy-ball momentum. */
  nesterov?: boolean;
  /**
   * `sync` (default): DiLoCo as published. `delayed`: the pseudo-gradient of
   * round `t` is averaged while round `t+1` computes, and applied one outer
   * step late (see `createDiLoCo`).
   */
  mode?: 'sync' | 'delayed';
  /**
   * Averages a pseudo-gradient over the workers in place (default: the
   * automatic `allReduce(p2p, buf, 'avg')`); swap in a compressed one here.
   */
  average?: (buf: FloatArray) => Promise<unknown>;
}

/** A DiLoCo worker wrapped around a live parameter buffer. */
export interface DiLoCoWorker {
  /** Global parameters after the last applied outer step. */
  readonly global: FloatArray;
  /** Outer momentum buffer. */
  readonly velocity: FloatArray;
  /** Outer steps applied so far. */
  readonly outerSteps: number;
  /**
   * Call after every inner optimizer step on `params`. Every `innerSteps`
   * calls it runs an outer step, rewrites `params` with the new starting
   * point, and resolves `true`; otherwise it resolves `false` at once.
   */
  afterInnerStep(): Promise<boolean>;
  /** `delayed` mode: waits for the pending pseudo-gradient and applies it to `global` and `params`. */
  flush(): Promise<void>;
}

function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name} to be a positive integer, got ${String(v)}`,
    );
  }
  return v;
}

/**
 * DiLoCo, "DiLoCo: Distributed Low-Communication Training of Language
 * Models" (Douillard et al., 2023), Algorithm 1: each worker takes
 * `innerSteps` local optimizer steps from the shared parameters; then the
 * pseudo-gradient `global - params` is averaged over the workers
 * (all-reduce) and an outer SGD step with Nesterov momentum (lr 0.7,
 * momentum 0.9) moves the shared parameters, from which every worker
 * continues. `params` must start equal on every worker.
 *
 * `mode: 'delayed'` is the one-step delayed outer update, the naive
 * overlapping variant studied in "Eager Updates For Overlapped
 * Communication and Computation in DiLoCo" (Kale et al., 2025): at the end
 * of round `t` the worker starts averaging `Delta_t` without waiting for it,
 * applies the already-averaged `Delta_{t-1}` with the outer optimizer, and
 * begins round `t+1` from that result; the all-reduce of `Delta_t` runs
 * while round `t+1` computes. Call `flush()` after the last round. While a
 * pseudo-gradient is in flight, no other collective may use the same
 * transport.
 */
export function createDiLoCo(
  p2p: PointToPointV1,
  params: FloatArray,
  options: DiLoCoOptions,
): DiLoCoWorker {
  if (!(params instanceof Float32Array || params instanceof Float64Array)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'expected params to be a Float32Array or Float64Array',
    );
  }
  const H = checkPositiveInt('innerSteps', options.innerSteps);
  const lr = options.outerLr ?? 0.7;
  const mu = options.outerMomentum ?? 0.9;
  if (!(lr > 0) || !(mu >= 0 && mu < 1)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected outerLr > 0 and outerMomentum in [0, 1), got ${lr} and ${mu}`,
    );
  }
  const nesterov = options.nesterov ?? true;
  const mode = options.mode ?? 'sync';
  if (mode !== 'sync' && mode !== 'delayed') {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected mode 'sync' or 'delayed', got ${String(mode)}`,
    );
  }
  const average = options.average ?? ((buf: FloatArray) => allReduce(p2p, buf, 'avg'));
  const Ctor = params.constructor as new (n: number) => FloatArray;
  const global = params.slice() as FloatArray;
  const velocity = new Ctor(params.length);
  let inner = 0;
  let outerSteps = 0;
  let pending: { delta: FloatArray; done: Promise<unknown> } | undefined;

  const pseudoGradient = (): FloatArray => {
    const delta = new Ctor(params.length);
    for (let i = 0; i < delta.length; i++) delta[i] = global[i]! - params[i]!;
    return delta;
  };
  const apply = (delta: FloatArray) => {
    outerNesterovStep(global, velocity, delta, lr, mu, nesterov);
    outerSteps++;
  };

  return {
    global,
    velocity,
    get outerSteps() {
      return outerSteps;
    },
    async afterInnerStep() {
      inner++;
      if (inner % H !== 0) return false;
      const delta = pseudoGradient();
      if (mode === 'sync') {
        await average(delta);
        apply(delta);
      } else {
        // Finish the previous average first: two collectives in flight on
        // one transport could interleave their messages.
        if (pending) {
          await pending.done;
          apply(pending.delta);
        }
        pending = { delta, done: average(delta) };
      }
      params.set(global);
      return true;
    },
    async flush() {
      if (!pending) return;
      const last = pending;
      pending = undefined;
      await last.done;
      apply(last.delta);
      params.set(global);
    },
  };
}
