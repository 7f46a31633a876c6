import { SeededRandom } from '@plexus/tensor';
import { BlockManager, type KvLayout, PagedKvStorage } from '../src/index.js';

/** A sequence's dense K/V (per layer `[length, numKvHeads, headDim]`), kept beside the paged store. */
export interface DenseSeq {
  readonly id: number;
  readonly k: Float32Array[];
  readonly v: Float32Array[];
  length: number;
}

/**
 * Paged store + block manager filled with random K/V for several sequences
 * (one forked, so some blocks are shared), and the same K/V kept densely.
 */
export function buildFixture(
  layout: Omit<KvLayout, 'numBlocks'>,
  lengths: readonly number[],
  seed: number,
): { manager: BlockManager; storage: PagedKvStorage; seqs: DenseSeq[]; rand: SeededRandom } {
  const rand = new SeededRandom(seed);
  const manager = new BlockManager({
    numBlocks: 256,
    blockSize: layout.blockSize as 8,
    watermark: 0,
    debug: true,
  });
  const storage = new PagedKvStorage({ ...layout, numBlocks: 256 });
  const row = layout.numKvHeads * layout.headDim;
  const seqs: DenseSeq[] = [];
  const randomKv = (n: number): Float32Array => rand.fillNormal(new Float32Array(n * row));
  lengths.forEach((len, id) => {
    manager.addSequence(
      id,
      Array.from({ length: len }, (_, i) => id * 1000 + i),
    );
    const seq: DenseSeq = { id, k: [], v: [], length: len };
    for (let l = 0; l < layout.numLayers; l++) {
      seq.k.push(randomKv(len));
      seq.v.push(randomKv(len));
      storage.write(l, manager.blockTable(id), 0, seq.k[l]!, seq.v[l]!);
    }
    seqs.push(seq);
  });
  return { manager, storage, seqs, rand };
}

/** Append one token's K/V to a sequence in both the paged store and its dense copy. */
export function appendToken(
  f: ReturnType<typeof buildFixture>,
  seq: DenseSeq,
  token: number,
): void {
  const { manager, storage, rand } = f;
  const { copies } = manager.appendTokens(seq.id, [token]);
  storage.copyBlocks(copies);
  const row = storage.layout.numKvHeads * storage.layout.headDim;
  for (let l = 0; l < storage.layout.numLayers; l++) {
    const k = rand.fillNormal(new Float32Array(row));
    const v = rand.fillNormal(new Float32Array(row));
    storage.write(l, manager.blockTable(seq.id), seq.length, k, v);
    const grow = (a: Float32Array): Float32Array => {
      const b = new Float32Array(a.length + row);
      b.set(a);
      return b;
    };
    seq.k[l] = grow(seq.k[l]!);
    seq.k[l]!.set(k, seq.length * row);
    seq.v[l] = grow(seq.v[l]!);
    seq.v[l]!.set(v, seq.length * row);
  }
  seq.length++;
}
