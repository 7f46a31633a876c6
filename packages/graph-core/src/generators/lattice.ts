import { CsrGraph } from '../csr/csr-graph.js';
import { checkInt } from './check.js';

/** A planar graph with node coordinates. */
export interface LatticeResult {
  /** The graph; node `r * cols + c` sits at row r, column c. */
  readonly graph: CsrGraph;
  /** `(x, y)` of each node, row-major `numNodes × 2` (x = column, y = row). */
  readonly positions: Float32Array;
}

/** A triangulated mesh: lattice plus its triangles. */
export interface MeshResult extends LatticeResult {
  /** Node triples of each triangle, `numFaces × 3`, counter-clockwise. */
  readonly faces: Int32Array;
}

function positionsOf(rows: number, cols: number): Float32Array {
  const pos = new Float32Array(rows * cols * 2);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      pos[2 * (r * cols + c)] = c;
      pos[2 * (r * cols + c) + 1] = r;
    }
  }
  return pos;
}

/** 2-D grid graph (4-neighbourhood); `periodic` wraps it into a torus (needs ≥ 3 per side to stay simple). */
export function grid2d(
  rows: number,
  cols: number,
  options: { periodic?: boolean } = {},
): LatticeResult {
  checkInt('rows', rows, 0);
  checkInt('cols', cols, 0);
  const periodic = options.periodic ?? false;
  const src: number[] = [];
  const dst: number[] = [];
  const add = (u: number, v: number): void => {
    src.push(u);
    dst.push(v);
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const u = r * cols + c;
      if (c + 1 < cols) add(u, u + 1);
      else if (periodic && cols > 2) add(u, r * cols);
      if (r + 1 < rows) add(u, u + cols);
      else if (periodic && rows > 2) add(u, c);
    }
  }
  return { graph: CsrGraph.fromEdges(rows * cols, src, dst), positions: positionsOf(rows, cols) };
}

/**
 * Triangulated grid mesh: each unit square split by its `(r, c)–(r+1, c+1)`
 * diagonal, the common test mesh for mesh GNNs.
 */
export function triangulatedMesh(rows: number, cols: number): MeshResult {
  checkInt('rows', rows, 0);
  checkInt('cols', cols, 0);
  const src: number[] = [];
  const dst: number[] = [];
  const add = (u: number, v: number): void => {
    src.push(u);
    dst.push(v);
  };
  const faces: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const u = r * cols + c;
      if (c + 1 < cols) add(u, u + 1);
      if (r + 1 < rows) add(u, u + cols);
      if (r + 1 < rows && c + 1 < cols) {
        add(u, u + cols + 1);
        faces.push(u, u + 1, u + cols + 1, u, u + cols + 1, u + cols);
      }
    }
  }
  return {
    graph: CsrGraph.fromEdges(rows * cols, src, dst),
    positions: positionsOf(rows, cols),
    faces: Int32Array.from(faces),
  };
}
