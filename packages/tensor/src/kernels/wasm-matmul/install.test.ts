import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderGemmModule } from '../../../scripts/wasm-assemble.js';
import { initBackend } from '../../backend/init-backend.js';
import { batchIndices } from './batch-offsets.js';
import { setWasmMatMulEnabled, wasmMatMulActive } from './install.js';
import { caseOf, checkMatMul } from './test-reference.js';

describe('wasm BatchMatMul registration', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  afterAll(() => {
    setWasmMatMulEnabled(true);
  });

  it('can be switched off and on; both kernels give the reference result', () => {
    const ours = tf.getKernel('BatchMatMul', 'wasm');
    expect(wasmMatMulActive()).toBe(true);
    expect(setWasmMatMulEnabled(false)).toBe(false);
    const tfjs = tf.getKernel('BatchMatMul', 'wasm');
    expect(tfjs).not.toBe(ours);
    // tfjs' own kernel checks shapes with its own message.
    expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/^Error in matMul/);
    checkMatMul(caseOf(9, 17, 5, true, false, [2], [2]));
    expect(setWasmMatMulEnabled(true)).toBe(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(ours);
    checkMatMul(caseOf(9, 17, 5, true, false, [2], [2]));
    // Switching on twice keeps the same registration.
    setWasmMatMulEnabled(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(ours);
  });

  it('leaves non-float32 inputs to tfjs (same behaviour as without it)', () => {
    const run = () =>
      tf.engine().runKernel(
        'BatchMatMul',
        { a: tf.ones([2, 2], 'int32'), b: tf.ones([2, 2], 'int32') },
        {
          transposeA: false,
          transposeB: false,
        },
      );
    expect(run).toThrow(/non-float32/);
    setWasmMatMulEnabled(false);
    expect(run).toThrow(/non-float32/);
    setWasmMatMulEnabled(true);
  });

  it('rejects rank-1 inputs with a clear message', () => {
    expect(() =>
      tf.engine().runKernel(
        'BatchMatMul',
        { a: tf.ones([3]), b: tf.ones([3, 2]) },
        {
          transposeA: false,
          transposeB: false,
        },
      ),
    ).toThrow(/^@plexus\/tensor\/wasm-matmul: matMul needs rank >= 2 inputs, got a \[3\]/);
  });

  it('rejects batch dims that do not broadcast', () => {
    expect(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([3, 4, 5]))).toThrow(
      /^@plexus\/tensor\/wasm-matmul: batch dims of a \[2,3,4\] and b \[3,4,5\] do not broadcast \(2 vs 3\)/,
    );
  });
});

describe('batchIndices', () => {
  it('maps output batch positions to input matrices like numpy broadcasting', () => {
    expect(Array.from(batchIndices([2, 3], [2, 3]))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(batchIndices([2, 3], [3]))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(batchIndices([2, 3], [2, 1]))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(batchIndices([2, 3], []))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(batchIndices([], []))).toEqual([0]);
    expect(Array.from(batchIndices([2, 2, 2], [2, 1, 2]))).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
  });
});

describe('gemm.wat', () => {
  it('the committed wasm bytes match binaryen output for gemm.wat', () => {
    const wat = readFileSync(new URL('./gemm.wat', import.meta.url), 'utf8');
    const committed = readFileSync(new URL('./gemm-wasm.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(renderGemmModule(wat));
  });
});
