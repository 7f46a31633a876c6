import { describe, expect, it } from 'vitest';
import { parseLmOptions } from '../src/commands/lm-options.js';
import { WindowLoader } from '../src/lm/data-loader.js';
import { clipByGlobalNorm } from '../src/lm/grad-clip.js';
import { CheckpointableRandom } from '../src/lm/rng.js';
import { learningRateAt } from '../src/lm/schedule.js';

describe('lm building blocks', () => {
  it('warmup then cosine: values from the closed form', () => {
    const s = { lr: 1, warmup: 4, steps: 14 };
    const got = Array.from({ length: 14 }, (_, i) => learningRateAt(i, s));
    expect(got.slice(0, 4)).toEqual([0.25, 0.5, 0.75, 1]);
    // Decay over steps 4..13: cos from 0 to pi, floor 0.1.
    for (let i = 4; i < 14; i++)
      expect(got[i]).toBeCloseTo(0.1 + 0.45 * (1 + Math.cos((Math.PI * (i - 4)) / 9)), 12);
    expect(got[13]).toBeCloseTo(0.1, 12);
  });

  it('clips by global norm like torch.nn.utils.clip_grad_norm_', () => {
    const g = Float32Array.of(3, 4, 0, 12); // norm 13
    expect(clipByGlobalNorm(g, 1)).toBeCloseTo(13, 6);
    const scale = 1 / (13 + 1e-6);
    expect(Array.from(g)).toEqual([3, 4, 0, 12].map((x) => Math.fround(x * scale)));
    const small = Float32Array.of(0.1, 0.2);
    clipByGlobalNorm(small, 1);
    expect(Array.from(small)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
  });

  it('xoshiro128** state round trip and known first output', () => {
    const a = new CheckpointableRandom(7);
    for (let i = 0; i < 5; i++) a.nextUint32();
    const b = new CheckpointableRandom(0);
    b.setState(a.getState());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(
      Array.from({ length: 8 }, () => a.nextUint32()),
    );
    // Reference: xoshiro128** from state [1, 2, 3, 4] gives 11520 first (Vigna's C code).
    const r = new CheckpointableRandom(0);
    r.setState([1, 2, 3, 4]);
    expect(r.nextUint32()).toBe(11520);
    expect(() => r.setState([1, 2])).toThrow(/4 unsigned 32-bit words/);
  });

  it('N workers with batch B see the windows of one worker with batch N·B; state resumes', () => {
    const tokens = Int32Array.from({ length: 500 }, (_, i) => i);
    const one = new WindowLoader(tokens, 8, 4, 1, 0, 3);
    const w0 = new WindowLoader(tokens, 8, 2, 2, 0, 3);
    const w1 = new WindowLoader(tokens, 8, 2, 2, 1, 3);
    for (let step = 0; step < 3; step++) {
      const a = one.next();
      const b0 = w0.next();
      const b1 = w1.next();
      expect(Array.from(a.ids)).toEqual([...b0.ids, ...b1.ids]);
      expect(Array.from(a.targets)).toEqual([...b0.targets, ...b1.targets]);
      // Targets are the inputs shifted by one token.
      for (let i = 0; i < a.ids.length; i++) expect(a.targets[i]).toBe(a.ids[i]! + 1);
    }
    const saved = one.state();
    const next = one.next();
    const again = new WindowLoader(tokens, 8, 4, 1, 0, 99);
    again.restore(saved);
    expect(again.batches).toBe(3);
    expect(Array.from(again.next().ids)).toEqual(Array.from(next.ids));
    expect(() => new WindowLoader(tokens.subarray(0, 5), 8, 1, 1, 0, 0)).toThrow(
      /needs at least 10/,
    );
  });

  it('rejects bad options with what is accepted', () => {
    expect(() => parseLmOptions(['--config', 'huge'])).toThrow(
      /--config 'huge' is not known; accepted: tiny, tiny-moe or the path of a config.json/,
    );
    expect(() => parseLmOptions(['--steps', '0'])).toThrow(
      /--steps must be an integer >= 1, got '0'/,
    );
    expect(() => parseLmOptions(['--lr=-1'])).toThrow(/--lr must be a number > 0/);
    expect(() => parseLmOptions(['--steps', '5', '--warmup', '5'])).toThrow(
      /--warmup 5 must be smaller than --steps 5/,
    );
    expect(() => parseLmOptions(['--backend', 'tpu'])).toThrow(/accepted: auto, tfjs-node-gpu/);
    expect(() => parseLmOptions(['--epochs', '3'])).toThrow(/Unknown option '--epochs'/);
    expect(parseLmOptions([])).toMatchObject({
      data: 'bundled',
      config: 'tiny',
      workers: 1,
      steps: 200,
      batch: 8,
      seq: 64,
      checkpointEvery: 50,
      out: 'runs/lm-tiny',
      resume: false,
    });
  });
});
