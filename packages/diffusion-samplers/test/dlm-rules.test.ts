// The masked decoders follow their rules exactly on an oracle whose logits
// are a fixed table: which positions unmask at each step, thresholds, block
// order, remasking, unsupervised CFG.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLowConfidenceDecoder,
  createThresholdDecoder,
  type DlmStepTrace,
  PortableRng,
  transferSchedule,
} from '../src/index.js';
import { rowWithConfidence, softmax, tableModel } from './dlm-oracle.js';
import { cpuBackend } from './setup.js';

const V = 6;
const MASK = 5;
const P = 2;

beforeAll(cpuBackend);

/** A table with seeded distinct confidences and tokens for positions 0..L-1. */
function seededTable(L: number, seed: number) {
  const rng = new PortableRng(seed);
  const tokens = Array.from({ length: L }, () => Math.floor(rng.uniform() * (V - 1)));
  const conf = Array.from({ length: L }, () => 0.3 + 0.65 * rng.uniform());
  const table = tokens.map((t, p) => rowWithConfidence(V, MASK, t, conf[p]!));
  return { tokens, conf, table };
}

function ascending(a: number[]): number[] {
  return [...a].sort((x, y) => x - y);
}

/** Plain-JS reference of the fixed-step rule for a context-free table. */
function expectedTopK(conf: number[], s: number, e: number, budgets: number[]): number[][] {
  const left = new Set(Array.from({ length: e - s }, (_, i) => s + i));
  return budgets.map((k) => {
    const pick = [...left].sort((a, b) => conf[b]! - conf[a]! || a - b).slice(0, k);
    for (const p of pick) left.delete(p);
    return ascending(pick);
  });
}

describe('low-confidence remasking (LLaDA)', () => {
  it('unmasks the k most confident positions per step in one block', async () => {
    const G = 8;
    const { tokens, conf, table } = seededTable(P + G, 3);
    const model = tableModel(V, MASK, table);
    const traces: DlmStepTrace[] = [];
    const res = await createLowConfidenceDecoder({ steps: 4 }).decode({
      model,
      prompt: [[0, 1]],
      genLength: G,
      onStep: (t) => traces.push(t),
    });
    const want = expectedTopK(conf, P, P + G, [2, 2, 2, 2]);
    expect(traces.map((t) => t.unmasked[0])).toEqual(want);
    expect(Array.from(res.tokens[0]!.subarray(P))).toEqual(tokens.slice(P));
    expect(res.modelCalls).toBe(4);
    expect(model.calls).toBe(4);
  });

  it('walks semi-autoregressive blocks left to right with the LLaDA transfer schedule', async () => {
    const G = 12;
    const BL = 4;
    const { conf, table } = seededTable(P + G, 7);
    const model = tableModel(V, MASK, table);
    const traces: DlmStepTrace[] = [];
    await createLowConfidenceDecoder({ steps: 9, blockLength: BL }).decode({
      model,
      prompt: [[2, 3]],
      genLength: G,
      onStep: (t) => traces.push(t),
    });
    expect(transferSchedule(4, 3)).toEqual([2, 1, 1]);
    const want: number[][] = [];
    for (let b = 0; b < 3; b++)
      want.push(...expectedTopK(conf, P + b * BL, P + (b + 1) * BL, [2, 1, 1]));
    expect(traces.map((t) => t.unmasked[0])).toEqual(want);
    expect(traces.map((t) => t.block)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });

  it('runs every step of a block even when it has fewer masks than steps', async () => {
    const { table } = seededTable(P + 4, 1);
    const model = tableModel(V, MASK, table);
    const traces: DlmStepTrace[] = [];
    await createLowConfidenceDecoder({ steps: 6, blockLength: 2 }).decode({
      model,
      prompt: [[0, 0]],
      genLength: 4,
      onStep: (t) => traces.push(t),
    });
    expect(traces.map((t) => t.unmasked[0]!.length)).toEqual([1, 1, 0, 1, 1, 0]);
  });

  it('random remasking keeps the schedule and the argmax tokens but not the confidence order', async () => {
    const G = 8;
    const { tokens, conf, table } = seededTable(P + G, 5);
    const model = tableModel(V, MASK, table);
    const orders: number[][][] = [];
    for (const seed of [1, 2]) {
      const traces: DlmStepTrace[] = [];
      const res = await createLowConfidenceDecoder({ steps: 8, remasking: 'random' }).decode({
        model,
        prompt: [[0, 1]],
        genLength: G,
        seed,
        onStep: (t) => traces.push(t),
      });
      expect(traces.every((t) => t.unmasked[0]!.length === 1)).toBe(true);
      expect(Array.from(res.tokens[0]!.subarray(P))).toEqual(tokens.slice(P));
      orders.push(traces.map((t) => [...t.unmasked[0]!]));
    }
    const byConf = expectedTopK(conf, P, P + G, new Array(8).fill(1));
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[0]).not.toEqual(byConf);
  });

  it('applies unsupervised classifier-free guidance u + (1 + w)(c - u) (SMDM)', async () => {
    const G = 4;
    const L = P + G;
    // Conditional logits prefer token 1 slightly; unconditional ones prefer it strongly,
    // so guidance flips the choice to token 2 where w is large enough.
    const cond = Array.from({ length: L }, (_, p) => [0, 1.0 + 0.13 * p, 0.8, 0, 0, -30]);
    const uncond = Array.from({ length: L }, () => [0, 2.0, 0.5, 0, 0, -30]);
    const model = tableModel(V, MASK, cond, uncond);
    for (const w of [0, 0.5, 3]) {
      const traces: DlmStepTrace[] = [];
      const res = await createLowConfidenceDecoder({ steps: G, cfgScale: w }).decode({
        model,
        prompt: [[3, 4]],
        genLength: G,
        onStep: (t) => traces.push(t),
      });
      const guided = cond.map((c, p) =>
        c.map((l, v) => uncond[p]![v]! + (1 + w) * (l - uncond[p]![v]!)),
      );
      const best = guided.map((row) => row.indexOf(Math.max(...row.slice(0, MASK))));
      const confs = guided.map((row, p) => softmax(row)[best[p]!]!);
      expect(Array.from(res.tokens[0]!.subarray(P))).toEqual(best.slice(P));
      expect(traces.map((t) => t.unmasked[0])).toEqual(expectedTopK(confs, P, L, [1, 1, 1, 1]));
    }
    expect(model.calls).toBe(3 * G);
  });
});

describe('confidence-threshold parallel decoding (Fast-dLLM)', () => {
  /** Plain-JS reference: per block, all masked with conf >= tau, at least the most confident. */
  function expectedThreshold(conf: number[], tau: number, P0: number, G: number, BL: number) {
    const steps: number[][] = [];
    for (let s = P0; s < P0 + G; s += BL) {
      const left = new Set(Array.from({ length: BL }, (_, i) => s + i));
      while (left.size > 0) {
        const order = [...left].sort((a, b) => conf[b]! - conf[a]! || a - b);
        const pick = order.filter((p, i) => i === 0 || conf[p]! >= tau);
        for (const p of pick) left.delete(p);
        steps.push(ascending(pick));
      }
    }
    return steps;
  }

  it.each([0.3, 0.6, 0.8, 1])(
    'threshold %f unmasks exactly the positions at or above it',
    async (tau) => {
      const G = 12;
      const BL = 6;
      const { tokens, conf, table } = seededTable(P + G, 11);
      const model = tableModel(V, MASK, table);
      const traces: DlmStepTrace[] = [];
      const res = await createThresholdDecoder({ threshold: tau, blockLength: BL }).decode({
        model,
        prompt: [[1, 1]],
        genLength: G,
        onStep: (t) => traces.push(t),
      });
      const want = expectedThreshold(conf, tau, P, G, BL);
      expect(traces.map((t) => t.unmasked[0])).toEqual(want);
      expect(res.modelCalls).toBe(want.length);
      expect(Array.from(res.tokens[0]!.subarray(P))).toEqual(tokens.slice(P));
    },
  );

  it('counts a confidence exactly at the threshold as accepted', async () => {
    const table = [0.5, 0.5, 0.9, 0.7, 0.7, 0.2].map((c) => rowWithConfidence(V, MASK, 1, c));
    const conf = table.map((row) => softmax(row)[1]!);
    const model = tableModel(V, MASK, table);
    const traces: DlmStepTrace[] = [];
    await createThresholdDecoder({ threshold: conf[3]! }).decode({
      model,
      prompt: [[0, 0]],
      genLength: 4,
      onStep: (t) => traces.push(t),
    });
    expect(traces[0]!.unmasked[0]).toEqual([2, 3, 4]);
  });

  it('leaks no tensors', async () => {
    const { table } = seededTable(P + 8, 2);
    const model = tableModel(V, MASK, table);
    const dec = createThresholdDecoder({ threshold: 0.5, blockLength: 4 });
    await dec.decode({ model, prompt: [[0, 1]], genLength: 8 });
    const before = tf.memory().numTensors;
    await dec.decode({
      model,
      prompt: [
        [0, 1],
        [2, 3],
      ],
      genLength: 8,
    });
    await createLowConfidenceDecoder({ steps: 4, cfgScale: 1 }).decode({
      model,
      prompt: [[0, 1]],
      genLength: 8,
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
