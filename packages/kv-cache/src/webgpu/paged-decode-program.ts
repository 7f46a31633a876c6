/** Threads per workgroup: one workgroup serves one (sequence, query head). */
export const DECODE_WORKGROUP_SIZE = 32;

/** Compile-time shape of a {@link pagedDecodeShader}; pipelines are cached per key. */
export interface PagedDecodeShape {
  readonly headDim: number;
  readonly blockSize: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
}

/**
 * WGSL body (tfjs' `main(index)` convention) of paged decode attention.
 *
 * Workgroup `w` computes query head `h = w % numHeads` of sequence
 * `s = w / numHeads` against KV head `h / (numHeads / numKvHeads)` (GQA).
 * Tokens are taken in tiles of {@link DECODE_WORKGROUP_SIZE}: thread `i`
 * resolves token `tile + i` through the block table and scores it, then the
 * tile's max and weights update an online (flash-style) softmax, and thread
 * `i` accumulates the weighted V rows into its own head dimensions. So K/V
 * are read in place through the block table; no dense gather exists.
 *
 * Every loop whose body holds a barrier runs a count fixed by uniforms and
 * constants (the same in every workgroup), keeping barriers in uniform
 * control flow; tokens past the context length, padded (-1) or
 * out-of-range blocks are masked instead of skipped, and never read.
 */
export function pagedDecodeShader(shape: PagedDecodeShape): string {
  const { headDim: D, blockSize: BS, numHeads: H, numKvHeads: KVH } = shape;
  const WG = DECODE_WORKGROUP_SIZE;
  const group = H / KVH;
  const perThread = Math.ceil(D / WG);
  return `
    var<workgroup> qs : array<f32, ${D}>;
    var<workgroup> probs : array<f32, ${WG}>;
    var<workgroup> rows : array<i32, ${WG}>;

    fn main(index : i32) {
      let lid = i32(localIndex);
      // 2-D grid for many (sequence, head) pairs; extra workgroups are inactive.
      let w = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
      let live = w < uniforms.numSeqs * ${H};
      let wc = select(0, w, live);
      let s = wc / ${H};
      let h = wc - s * ${H};
      let kvHead = h / ${group};
      let ctx = select(0, min(contextLens[s], uniforms.maxBlocks * ${BS}), live);
      let qBase = wc * ${D};
      for (var d = lid; d < ${D}; d = d + ${WG}) {
        qs[d] = f32(query[qBase + d]) * uniforms.scale;
      }
      workgroupBarrier();

      // Finite sentinel instead of -inf: masked weights are forced to 0, so
      // exp never sees inf - inf.
      var m = -3.0e38;
      var l = 0.0;
      var acc : array<f32, ${perThread}>;
      for (var k = 0; k < ${perThread}; k = k + 1) { acc[k] = 0.0; }

      for (var tile = 0; tile < uniforms.numTiles; tile = tile + 1) {
        let t = tile * ${WG} + lid;
        var row = -1;
        var score = -3.0e38;
        if (t < ctx) {
          let block = blockTables[s * uniforms.maxBlocks + t / ${BS}];
          if (block >= 0 && block < uniforms.numBlocks) {
            row = ((block * ${BS} + t % ${BS}) * ${KVH} + kvHead) * ${D};
            var dot = 0.0;
            for (var d = 0; d < ${D}; d = d + 1) { dot = dot + qs[d] * f32(kCache[row + d]); }
            score = dot;
          }
        }
        rows[lid] = row;
        probs[lid] = score;
        workgroupBarrier();
        var tileMax = -3.0e38;
        for (var j = 0; j < ${WG}; j = j + 1) {
          if (rows[j] >= 0) { tileMax = max(tileMax, probs[j]); }
        }
        let mNew = max(m, tileMax);
        let corr = exp(m - mNew);
        workgroupBarrier();
        probs[lid] = select(0.0, exp(score - mNew), row >= 0);
        workgroupBarrier();
        // Every thread sums the same weights in the same order, so l agrees.
        var sum = 0.0;
        for (var j = 0; j < ${WG}; j = j + 1) { sum = sum + probs[j]; }
        l = l * corr + sum;
        m = mNew;
        for (var k = 0; k < ${perThread}; k = k + 1) {
          let d = k * ${WG} + lid;
          if (d < ${D}) {
            var a = acc[k] * corr;
            for (var j = 0; j < ${WG}; j = j + 1) {
              let r = rows[j];
              if (r >= 0) { a = a + probs[j] * f32(vCache[r + d]); }
            }
            acc[k] = a;
          }
        }
        // The next tile overwrites rows and probs.
        workgroupBarrier();
      }

      if (live) {
        let inv = select(0.0, 1.0 / l, l > 0.0);
        for (var k = 0; k < ${perThread}; k = k + 1) {
          let d = k * ${WG} + lid;
          if (d < ${D}) { result[qBase + d] = acc[k] * inv; }
        }
      }
    }
  `;
}
