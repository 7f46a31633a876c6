import { DiffusionSamplersError } from '../errors.js';
import type { DlmDecodeArgs } from './types.js';

const MODULE = 'dlm';

/** Throw a `@plexus/diffusion-samplers/dlm` error. */
export function dlmError(message: string): DiffusionSamplersError {
  return new DiffusionSamplersError(MODULE, message);
}

/** Throw unless `value` is a positive integer. */
export function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw dlmError(`${name} must be a positive integer, got ${value}`);
}

/** Throw unless `value` is a finite number in [lo, hi] (or (lo, hi] with `openLow`). */
export function checkRange(
  name: string,
  value: number,
  lo: number,
  hi: number,
  openLow = false,
): void {
  const ok = Number.isFinite(value) && (openLow ? value > lo : value >= lo) && value <= hi;
  if (!ok)
    throw dlmError(
      `${name} must be in ${openLow ? '(' : '['}${lo}, ${hi === Number.POSITIVE_INFINITY ? 'Infinity)' : `${hi}]`}, got ${value}`,
    );
}

/**
 * Check the model, the prompt (non-empty rows of equal length, ids in
 * `[0, vocabSize)`, no mask tokens) and `genLength`; returns the prompt length.
 */
export function checkDecodeArgs(args: DlmDecodeArgs): number {
  const { model, prompt, genLength } = args;
  if (model?.specificationVersion !== 'v1')
    throw dlmError(
      `model must implement MaskedDiffusionLmV1 (specificationVersion 'v1'), got ${String(model?.specificationVersion)}`,
    );
  checkPositiveInt('genLength', genLength);
  if (!Array.isArray(prompt) || prompt.length === 0)
    throw dlmError('prompt must be a non-empty array of token-id rows (one per batch row)');
  const p = prompt[0]!.length;
  if (p < 1) throw dlmError('prompt rows must hold at least one token, got an empty row');
  prompt.forEach((row, b) => {
    if (row.length !== p)
      throw dlmError(
        `prompt rows must have equal lengths; row 0 has ${p}, row ${b} has ${row.length}`,
      );
    for (const t of row) {
      if (!Number.isInteger(t) || t < 0 || t >= model.vocabSize)
        throw dlmError(
          `prompt row ${b} holds token ${t}; expected integers in [0, ${model.vocabSize})`,
        );
      if (t === model.maskId)
        throw dlmError(`prompt row ${b} holds the mask token ${t}; prompts must be fully unmasked`);
    }
  });
  return p;
}
