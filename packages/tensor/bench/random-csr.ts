import { CsrMatrix, SeededRandom } from '../src/index.js';

/** A seeded random graph with `numEdges` uniformly random (row, col) pairs and weights. */
export function randomCsr(numNodes: number, numEdges: number, seed: number): CsrMatrix {
  const rng = new SeededRandom(seed);
  const rows = new Int32Array(numEdges);
  const cols = new Int32Array(numEdges);
  const w = new Float32Array(numEdges);
  for (let e = 0; e < numEdges; e++) {
    rows[e] = rng.int(numNodes);
    cols[e] = rng.int(numNodes);
    w[e] = rng.uniform();
  }
  return CsrMatrix.fromCoo(rows, cols, [numNodes, numNodes], w);
}
