import { PlexusKvCacheError } from '../errors.js';

/** Threads per workgroup of the prefill kernel. */
export const PREFILL_WORKGROUP_SIZE = 64;

/** Workgroup memory the kernel may use: WebGPU's guaranteed minimum (16 KiB) less headroom. */
const SHARED_FLOATS = 3584;

/** Compile-time shape of a {@link pagedPrefillShader}; pipelines are cached per key. */
export interface PagedPrefillShape {
  readonly headDim: number;
  readonly blockSize: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
}

/** Query rows and key rows per tile for a head dimension (fit both tiles in workgroup memory). */
export function prefillTiles(headDim: number, module: string): { qt: number; kt: number } {
  const kt = headDim <= 128 ? 16 : 8;
  let qt = 16;
  while (qt >= 1 && (qt + kt) * headDim + qt * kt + kt + 2 * qt > SHARED_FLOATS) qt /= 2;
  if (qt < 1)
    throw new PlexusKvCacheError(
      module,
      `headDim ${headDim} is too large for the prefill kernel's workgroup memory; expected at most ${Math.floor(SHARED_FLOATS / 9) - 8}`,
    );
  return { qt, kt };
}

/**
 * WGSL body (tfjs' `main(index)` convention) of causal paged prefill
 * attention, after FlashAttention's tiling ("FlashAttention: Fast and
 * Memory-Efficient Exact Attention with IO-Awareness", Dao et al., 2022).
 *
 * Workgroup `w` takes query tile `w / numHeads` (up to `qt` consecutive
 * queries of one sequence, from `tileInfo`) for query head `h = w %
 * numHeads`, which reads KV head `h / (numHeads / numKvHeads)` (GQA). Keys
 * come in tiles of `kt`: the tile's rows are resolved through the block table
 * and staged in workgroup memory, every (query, key) score of the tile is
 * computed once, each query row updates its online-softmax max and sum, and
 * thread `i` accumulates the weighted V rows (read in place) into its head
 * dimensions for all the tile's queries. Nothing gathers the cache.
 *
 * The number of key tiles differs per workgroup (ragged lengths, causal
 * end), so it is broadcast with `workgroupUniformLoad`, which keeps every
 * barrier in uniform control flow. Keys past a query's position, padded (-1)
 * or out-of-range blocks are masked, never read.
 */
export function pagedPrefillShader(shape: PagedPrefillShape, module: string): string {
  const { headDim: D, blockSize: BS, numHeads: H, numKvHeads: KVH } = shape;
  const WG = PREFILL_WORKGROUP_SIZE;
  const { qt: QT, kt: KT } = prefillTiles(D, module);
  const group = H / KVH;
  const PT = Math.ceil(D / WG);
  return `
    var<workgroup> pfQ : array<f32, ${QT * D}>;
    var<workgroup> pfK : array<f32, ${KT * D}>;
    var<workgroup> pfP : array<f32, ${QT * KT}>;
    var<workgroup> pfRows : array<i32, ${KT}>;
    var<workgroup> pfCorr : array<f32, ${QT}>;
    var<workgroup> pfL : array<f32, ${QT}>;
    var<workgroup> pfTiles : i32;

    fn main(index : i32) {
      let lid = i32(localIndex);
      let w = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
      let live = w < uniforms.numTiles * ${H};
      let wc = select(0, w, live);
      let tile = wc / ${H};
      let h = wc - tile * ${H};
      let kvHead = h / ${group};
      let s = tileInfo[tile * 2];
      let q0 = tileInfo[tile * 2 + 1];
      let qStart = seqInfo[s * 3];
      let rowBase = seqInfo[s * 3 + 2] + q0;
      let nqTile = select(0, min(${QT}, seqInfo[s * 3 + 1] - q0), live);
      // The tile's last query sees positions up to qStart + q0 + nqTile - 1.
      let ctx = min(qStart + q0 + nqTile, uniforms.maxBlocks * ${BS});
      if (lid == 0) { pfTiles = (ctx + ${KT - 1}) / ${KT}; }
      let numKeyTiles = workgroupUniformLoad(&pfTiles);

      for (var i = lid; i < ${QT * D}; i = i + ${WG}) {
        let qi = i / ${D};
        let d = i - qi * ${D};
        var x = 0.0;
        if (qi < nqTile) { x = f32(query[((rowBase + qi) * ${H} + h) * ${D} + d]) * uniforms.scale; }
        pfQ[i] = x;
      }
      // Row statistics live in threads 0..qt-1 (one query row each).
      var m = -3.0e38;
      var l = 0.0;
      var acc : array<f32, ${QT * PT}>;
      for (var k = 0; k < ${QT * PT}; k = k + 1) { acc[k] = 0.0; }

      for (var kt = 0; kt < numKeyTiles; kt = kt + 1) {
        let base = kt * ${KT};
        if (lid < ${KT}) {
          let t = base + lid;
          var row = -1;
          if (t < ctx) {
            let block = blockTables[s * uniforms.maxBlocks + t / ${BS}];
            if (block >= 0 && block < uniforms.numBlocks) {
              row = ((block * ${BS} + t % ${BS}) * ${KVH} + kvHead) * ${D};
            }
          }
          pfRows[lid] = row;
        }
        workgroupBarrier();
        for (var i = lid; i < ${KT * D}; i = i + ${WG}) {
          let j = i / ${D};
          let r = pfRows[j];
          var x = 0.0;
          if (r >= 0) { x = f32(kCache[r + i - j * ${D}]); }
          pfK[i] = x;
        }
        workgroupBarrier();
        for (var i = lid; i < ${QT * KT}; i = i + ${WG}) {
          let qi = i / ${KT};
          let j = i - qi * ${KT};
          var score = -3.0e38;
          if (qi < nqTile && pfRows[j] >= 0 && base + j <= qStart + q0 + qi) {
            var dot = 0.0;
            for (var d = 0; d < ${D}; d = d + 1) { dot = dot + pfQ[qi * ${D} + d] * pfK[j * ${D} + d]; }
            score = dot;
          }
          pfP[i] = score;
        }
        workgroupBarrier();
        if (lid < ${QT}) {
          var tileMax = -3.0e38;
          for (var j = 0; j < ${KT}; j = j + 1) { tileMax = max(tileMax, pfP[lid * ${KT} + j]); }
          let mNew = max(m, tileMax);
          var sum = 0.0;
          for (var j = 0; j < ${KT}; j = j + 1) {
            let sc = pfP[lid * ${KT} + j];
            // Masked scores hold the sentinel: their weight is exactly 0.
            let p = select(0.0, exp(sc - mNew), sc > -1.0e38);
            pfP[lid * ${KT} + j] = p;
            sum = sum + p;
          }
          let corr = exp(m - mNew);
          l = l * corr + sum;
          m = mNew;
          pfCorr[lid] = corr;
        }
        workgroupBarrier();
        for (var k = 0; k < ${PT}; k = k + 1) {
          let d = k * ${WG} + lid;
          if (d < ${D}) {
            for (var qi = 0; qi < ${QT}; qi = qi + 1) { acc[qi * ${PT} + k] = acc[qi * ${PT} + k] * pfCorr[qi]; }
            for (var j = 0; j < ${KT}; j = j + 1) {
              let r = pfRows[j];
              if (r >= 0) {
                let v = f32(vCache[r + d]);
                for (var qi = 0; qi < ${QT}; qi = qi + 1) {
                  acc[qi * ${PT} + k] = acc[qi * ${PT} + k] + pfP[qi * ${KT} + j] * v;
                }
              }
            }
          }
        }
        // The next tile overwrites the rows, K tile and weights.
        workgroupBarrier();
      }

      if (lid < ${QT}) { pfL[lid] = l; }
      workgroupBarrier();
      for (var k = 0; k < ${PT}; k = k + 1) {
        let d = k * ${WG} + lid;
        if (d < ${D}) {
          // A constant trip count keeps acc in registers (dynamic indexing would spill it).
          for (var qi = 0; qi < ${QT}; qi = qi + 1) {
            if (qi < nqTile) {
              let lq = pfL[qi];
              let inv = select(0.0, 1.0 / lq, lq > 0.0);
              result[((rowBase + qi) * ${H} + h) * ${D} + d] = acc[qi * ${PT} + k] * inv;
            }
          }
        }
      }
    }
  `;
}
