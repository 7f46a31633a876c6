// Shared pieces of the parallel sampling tests: P ranks on one in-memory
// network, seeded full-size noise, relative RMS error.
import {
  type CollectiveGroupV1,
  createInMemoryNetwork,
  createTransportGroup,
  type InMemoryNetwork,
} from '@plexus/collectives';
import * as tf from '@tensorflow/tfjs-core';
import { PortableRng } from '../src/index.js';

/** `worldSize` groups over one simulated network (counters in `network.stats`). */
export function inMemoryGroups(worldSize: number): {
  network: InMemoryNetwork;
  groups: CollectiveGroupV1[];
} {
  const network = createInMemoryNetwork(worldSize);
  const groups = network.endpoints.map((e) => createTransportGroup(e, { timeoutMs: 20_000 }));
  return { network, groups };
}

/** Seeded standard normal noise (the same on every rank and thread). */
export function seededNoise(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from(new PortableRng(seed).normals(n)), shape);
}

/** ||a - b|| / ||b||. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return Math.sqrt(num / den);
}

/** Total payload bytes on the simulated network. */
export function wireBytes(network: InMemoryNetwork): number {
  return network.stats.bytes.flat().reduce((a, b) => a + b, 0);
}
