import { describe, expect, it } from 'vitest';
import { Engine, type GenerationHandle } from '../src/engine/engine.js';
import { greedySampling } from '../src/engine/sampling-params.js';
import { HierarchicalDrafter } from '../src/engine/speculative/hierarchical-drafter.js';
import { collect, randomPrompt } from './engine-helpers.js';
import { TOY_VOCAB, ToyPagedModel } from './toy-model.js';

const greedy = greedySampling;
const prompt = randomPrompt;
const tokensOf = async (handle: GenerationHandle) => (await collect(handle)).tokens[0] ?? [];

describe('hierarchical drafting', () => {
  it('looks in the context first, then model outputs, then static statistics', () => {
    const d = new HierarchicalDrafter({ ngramSizes: [2], staticTokens: [[7, 8, 9, 10]] });
    expect(d.propose([1, 2, 3, 4, 1, 2], 3)).toEqual({ tokens: [3, 4, 1], source: 'context' });
    expect(d.propose([5, 7, 8], 2)).toEqual({ tokens: [9, 10], source: 'statistics' });
    d.observe([0, 7, 8, 42, 43]);
    expect(d.propose([5, 7, 8], 2)).toEqual({ tokens: [42, 43], source: 'model' });
    expect(d.propose([11, 12], 2)).toEqual({ tokens: [], source: null });
  });
});

describe('speculative decoding in the engine', () => {
  it('greedy outputs equal non-speculative decoding, with fewer model steps and accepted drafts', async () => {
    const prompts = [
      prompt(1, 12),
      prompt(2, 30),
      prompt(3, 5),
      [...prompt(4, 6), ...prompt(4, 6)],
    ];
    const run = async (speculative: boolean) => {
      const model = new ToyPagedModel(TOY_VOCAB);
      const engine = new Engine({
        model,
        eosTokenIds: [0],
        numBlocks: 64,
        blockSize: 8,
        ...(speculative
          ? { speculation: { drafter: new HierarchicalDrafter(), numDraftTokens: 5 } }
          : {}),
      });
      const outputs = await Promise.all(
        prompts.map((p) => tokensOf(engine.submit({ promptTokens: p, params: greedy(40) }))),
      );
      expect(engine.manager.numFreeBlocks()).toBe(64);
      engine.manager.checkInvariants();
      await engine.stop();
      return {
        outputs,
        steps: model.steps,
        drafted: engine.draftedTokens,
        accepted: engine.acceptedTokens,
      };
    };
    const plain = await run(false);
    const spec = await run(true);
    expect(spec.outputs).toEqual(plain.outputs);
    const reference = new ToyPagedModel(TOY_VOCAB);
    plain.outputs.forEach((o, i) => {
      expect(o).toEqual(reference.referenceGreedy(prompts[i]!, 40, 0));
    });
    expect(spec.accepted).toBeGreaterThan(0);
    expect(spec.accepted).toBeLessThanOrEqual(spec.drafted);
    expect(spec.steps).toBeLessThan(plain.steps);
  });

  it('leaves sampled (temperature > 0) requests alone', async () => {
    const model = new ToyPagedModel(TOY_VOCAB);
    const engine = new Engine({
      model,
      eosTokenIds: [0],
      numBlocks: 32,
      blockSize: 8,
      speculation: { drafter: new HierarchicalDrafter() },
    });
    await tokensOf(
      engine.submit({
        promptTokens: prompt(5, 8),
        params: { ...greedy(20), temperature: 0.8, seed: 3 },
      }),
    );
    expect(engine.draftedTokens).toBe(0);
    await engine.stop();
  });
});
