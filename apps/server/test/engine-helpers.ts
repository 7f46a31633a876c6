import { SeededRandom } from '@plexus/tensor';
import type { GenerationHandle } from '../src/engine/engine.js';
import { TOY_VOCAB } from './toy-model.js';

/** Every choice's tokens and finish reason of a request, in order. */
export async function collect(
  handle: GenerationHandle,
): Promise<{ tokens: number[][]; reasons: string[] }> {
  const tokens: number[][] = [];
  const reasons: string[] = [];
  for await (const e of handle.events) {
    if (e.type === 'token') {
      tokens[e.choice] ??= [];
      tokens[e.choice]!.push(e.sampled.token);
    }
    if (e.type === 'finish') reasons[e.choice] = e.reason;
    if (e.type === 'error') throw new Error(e.message);
  }
  return { tokens, reasons };
}

/** A seeded prompt of `length` toy-vocabulary tokens (never EOS). */
export function randomPrompt(seed: number, length: number): number[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length }, () => 1 + rng.int(TOY_VOCAB - 1));
}
