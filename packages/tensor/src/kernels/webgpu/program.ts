import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** Threads per workgroup of every Plexus WGSL program (a multiple of every GPU's SIMD width). */
export const WORKGROUP_SIZE = 128;

/** Named `i32` uniforms of a program, in declaration order. */
export type IntUniforms = ReadonlyArray<readonly [name: string, value: number]>;

/** What a Plexus program declares; {@link runProgram} fills in the rest of tfjs' `WebGPUProgram`. */
export interface ProgramSpec {
  /** Unique per generated source: tfjs caches pipelines by this key (plus shapes' ranks and dtypes). */
  readonly key: string;
  readonly variableNames: string[];
  /** Elements per array item of each input (4 binds it as `array<vec4<f32>>`). */
  readonly variableComponents?: number[];
  /** Elements per item of `result`. */
  readonly outputComponent?: number;
  /** Declare `result` as `array<atomic<i32>>`. */
  readonly atomic?: boolean;
  readonly uniforms: IntUniforms;
  readonly dispatch: [number, number, number];
  /** WGSL defining `fn main(index : i32)`; `index` is the flat thread index of the dispatch. */
  readonly code: string;
}

/**
 * Run a Plexus program writing into `output` (an existing tensor, so several
 * dispatches can fill or accumulate into one buffer) and return it.
 */
export function runProgram(
  backend: WebGPUBackend,
  spec: ProgramSpec,
  inputs: TensorInfo[],
  output: TensorInfo,
): TensorInfo {
  const program: WebGPUProgram = {
    outputShape: output.shape,
    shaderKey: spec.key,
    // A flat layout makes tfjs call `main(getGlobalIndex())`, which also
    // flattens the 2-D grids that large dispatches use.
    dispatchLayout: { x: [0] },
    dispatch: spec.dispatch,
    variableNames: spec.variableNames,
    workgroupSize: [WORKGROUP_SIZE, 1, 1],
    uniforms: spec.uniforms.map(([name]) => `${name} : i32,`).join(' '),
    getUserCode: () => spec.code,
  };
  if (spec.variableComponents !== undefined) program.variableComponents = spec.variableComponents;
  if (spec.outputComponent !== undefined) program.outputComponent = spec.outputComponent;
  if (spec.atomic === true) program.atomic = true;
  const data = spec.uniforms.map(([, value]) => ({ type: 'int32', data: [value] }));
  return backend.runWebGPUProgram(program, inputs, output.dtype as DataType, data, output);
}

/** A tensor view of `t`'s data with another shape of the same size (no copy, no refcount). */
export function viewAs(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}
