;; Single-precision GEMM for @plexus/tensor's wasm BatchMatMul:
;; C[M,N] (+)= op(A)[M,K] · op(B)[K,N] on 128-bit SIMD (f32x4, no FMA).
;;
;; The layout follows GotoBLAS / BLIS ("Anatomy of High-Performance Matrix
;; Multiplication", Goto & van de Geijn, 2008; "BLIS: A Framework for Rapidly
;; Instantiating BLAS Functionality", Van Zee & van de Geijn, 2015): the JS
;; driver cuts the problem into kc-deep blocks, `pack_b` copies a block of B
;; into 8-column panels (k-major, zero-padded), `pack_a` copies a block of A
;; into 4-row panels (k-major, zero-padded), and `gemm` runs the 4x8
;; micro-kernel over every (4-row, 8-column) tile. Packing is where transposes
;; are absorbed, so the micro-kernel sees one layout for all four
;; transposeA/transposeB cases.
;;
;; The memory is tfjs-backend-wasm's own, imported, so tensors are read and
;; written in place. All addresses are byte offsets into it.
(module
  (import "env" "memory" (memory 1))

  ;; Pack a kc x nc block of B into ceil(nc/8) panels of kc rows x 8 floats.
  ;; Element (k, n) is at src + k*sk + n*sn. Columns past nc are zero.
  (func $pack_b (export "pack_b")
    (param $src i32) (param $dst i32) (param $kc i32) (param $nc i32)
    (param $sk i32) (param $sn i32)
    (local $n0 i32) (local $w i32) (local $k i32) (local $s i32)
    (local $row i32) (local $c i32) (local $d i32)
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $n0) (local.get $nc)))
        (local.set $w (i32.sub (local.get $nc) (local.get $n0)))
        (if (i32.gt_s (local.get $w) (i32.const 8)) (then (local.set $w (i32.const 8))))
        (local.set $k (i32.const 0))
        (if (i32.and (i32.eq (local.get $w) (i32.const 8)) (i32.eq (local.get $sn) (i32.const 4)))
          (then
            ;; Rows of B are contiguous: two vector copies per k.
            (local.set $s (i32.add (local.get $src) (i32.shl (local.get $n0) (i32.const 2))))
            (block $kdone
              (loop $kl
                (br_if $kdone (i32.ge_s (local.get $k) (local.get $kc)))
                (v128.store (local.get $dst) (v128.load (local.get $s)))
                (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))
                (local.set $s (i32.add (local.get $s) (local.get $sk)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $kl))))
          (else
            (if (i32.and (i32.eq (local.get $w) (i32.const 8)) (i32.eq (local.get $sk) (i32.const 4)))
              (then
                ;; B transposed: each of the 8 columns is contiguous in k.
                ;; Four k at a time, 4x4 blocks transposed in registers.
                (call $pack_t8 (i32.add (local.get $src) (i32.mul (local.get $n0) (local.get $sn)))
                  (local.get $dst) (local.get $kc) (local.get $sn))
                (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 5)))))
              (else
                ;; Remainder panel (or unusual strides): scalar, zero-padded.
                (local.set $row (i32.add (local.get $src) (i32.mul (local.get $n0) (local.get $sn))))
                (block $kdone2
                  (loop $kl2
                    (br_if $kdone2 (i32.ge_s (local.get $k) (local.get $kc)))
                    (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (v128.store offset=16 (local.get $dst) (v128.const i32x4 0 0 0 0))
                    (local.set $s (local.get $row))
                    (local.set $d (local.get $dst))
                    (local.set $c (i32.const 0))
                    (block $cdone
                      (loop $cl
                        (br_if $cdone (i32.ge_s (local.get $c) (local.get $w)))
                        (f32.store (local.get $d) (f32.load (local.get $s)))
                        (local.set $s (i32.add (local.get $s) (local.get $sn)))
                        (local.set $d (i32.add (local.get $d) (i32.const 4)))
                        (local.set $c (i32.add (local.get $c) (i32.const 1)))
                        (br $cl)))
                    (local.set $row (i32.add (local.get $row) (local.get $sk)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $kl2)))))))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 8)))
        (br $panels))))

  ;; Transpose-pack 8 rows of a row-major matrix (row stride $ld bytes, $kc
  ;; floats used per row) into kc x 8, k-major: dst[k*8 + r] = src[r*ld + k].
  (func $pack_t8
    (param $src i32) (param $dst i32) (param $kc i32) (param $ld i32)
    (local $k i32) (local $k4 i32) (local $r i32) (local $h i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local.set $k4 (i32.and (local.get $kc) (i32.const -4)))
    (block $done
      (loop $kl
        (br_if $done (i32.ge_s (local.get $k) (local.get $k4)))
        ;; Two 4x4 blocks: rows 0-3 to lanes 0-3, rows 4-7 to lanes 4-7.
        (local.set $h (i32.const 0))
        (loop $half
          (local.set $r (i32.add (local.get $src)
            (i32.add (i32.shl (local.get $k) (i32.const 2))
                     (i32.mul (local.get $h) (i32.shl (local.get $ld) (i32.const 2))))))
          (local.set $x0 (v128.load (local.get $r)))
          (local.set $x1 (v128.load (i32.add (local.get $r) (local.get $ld))))
          (local.set $x2 (v128.load (i32.add (local.get $r) (i32.shl (local.get $ld) (i32.const 1)))))
          (local.set $x3 (v128.load (i32.add (local.get $r) (i32.mul (local.get $ld) (i32.const 3)))))
          ;; y0 = [x0.0 x1.0 x0.1 x1.1], y1 = [x2.0 x3.0 x2.1 x3.1], ...
          (local.set $y0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
          (local.set $y1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
          (local.set $y2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
          (local.set $y3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
          (local.set $r (i32.add (local.get $dst) (i32.shl (local.get $h) (i32.const 4))))
          (v128.store offset=0 (local.get $r)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $y0) (local.get $y1)))
          (v128.store offset=32 (local.get $r)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $y0) (local.get $y1)))
          (v128.store offset=64 (local.get $r)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $y2) (local.get $y3)))
          (v128.store offset=96 (local.get $r)
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $y2) (local.get $y3)))
          (local.set $h (i32.add (local.get $h) (i32.const 1)))
          (br_if $half (i32.lt_s (local.get $h) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
    ;; The last kc mod 4 rows of the panel, one float at a time.
    (block $tdone
      (loop $tl
        (br_if $tdone (i32.ge_s (local.get $k) (local.get $kc)))
        (local.set $r (i32.const 0))
        (loop $rl
          (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
            (f32.load (i32.add (local.get $src)
              (i32.add (i32.shl (local.get $k) (i32.const 2)) (i32.mul (local.get $r) (local.get $ld))))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rl (i32.lt_s (local.get $r) (i32.const 8))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tl))))

  ;; Transpose-pack 4 rows of a row-major matrix (row stride $ld bytes) into
  ;; kc x 4, k-major: dst[k*4 + r] = src[r*ld + k]. A untransposed.
  (func $pack_t4
    (param $src i32) (param $dst i32) (param $kc i32) (param $ld i32)
    (local $k i32) (local $k4 i32) (local $r i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local.set $k4 (i32.and (local.get $kc) (i32.const -4)))
    (block $done
      (loop $kl
        (br_if $done (i32.ge_s (local.get $k) (local.get $k4)))
        (local.set $r (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $x0 (v128.load (local.get $r)))
        (local.set $x1 (v128.load (i32.add (local.get $r) (local.get $ld))))
        (local.set $x2 (v128.load (i32.add (local.get $r) (i32.shl (local.get $ld) (i32.const 1)))))
        (local.set $x3 (v128.load (i32.add (local.get $r) (i32.mul (local.get $ld) (i32.const 3)))))
        (local.set $y0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
        (local.set $y1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
        (local.set $y2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
        (local.set $y3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
        (v128.store offset=0 (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $y0) (local.get $y1)))
        (v128.store offset=16 (local.get $dst)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $y0) (local.get $y1)))
        (v128.store offset=32 (local.get $dst)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $y2) (local.get $y3)))
        (v128.store offset=48 (local.get $dst)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $y2) (local.get $y3)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $kl)))
    (block $tdone
      (loop $tl
        (br_if $tdone (i32.ge_s (local.get $k) (local.get $kc)))
        (local.set $r (i32.const 0))
        (loop $rl
          (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
            (f32.load (i32.add (local.get $src)
              (i32.add (i32.shl (local.get $k) (i32.const 2)) (i32.mul (local.get $r) (local.get $ld))))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rl (i32.lt_s (local.get $r) (i32.const 4))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tl))))

  ;; Pack an mc x kc block of A into ceil(mc/4) panels of kc x 4 floats
  ;; (k-major). Element (m, k) is at src + m*sm + k*sk. Rows past mc are zero.
  (func $pack_a (export "pack_a")
    (param $src i32) (param $dst i32) (param $mc i32) (param $kc i32)
    (param $sm i32) (param $sk i32)
    (local $m0 i32) (local $h i32) (local $k i32) (local $s i32)
    (local $r i32) (local $p i32)
    (block $done
      (loop $panels
        (br_if $done (i32.ge_s (local.get $m0) (local.get $mc)))
        (local.set $h (i32.sub (local.get $mc) (local.get $m0)))
        (if (i32.gt_s (local.get $h) (i32.const 4)) (then (local.set $h (i32.const 4))))
        (local.set $k (i32.const 0))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $m0) (local.get $sm))))
        (if (i32.and (i32.eq (local.get $h) (i32.const 4)) (i32.eq (local.get $sm) (i32.const 4)))
          (then
            ;; A transposed: the 4 rows of a panel are adjacent for each k.
            (block $kdone
              (loop $kl
                (br_if $kdone (i32.ge_s (local.get $k) (local.get $kc)))
                (v128.store (local.get $dst) (v128.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (local.get $sk)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $kl))))
          (else (if (i32.and (i32.eq (local.get $h) (i32.const 4)) (i32.eq (local.get $sk) (i32.const 4)))
          (then
            ;; A untransposed: each row is contiguous in k; 4x4 transposes.
            (call $pack_t4 (local.get $s) (local.get $dst) (local.get $kc) (local.get $sm))
            (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $kc) (i32.const 4)))))
          (else
            ;; Remainder panel (or unusual strides): scalar, zero-padded.
            (block $kdone2
              (loop $kl2
                (br_if $kdone2 (i32.ge_s (local.get $k) (local.get $kc)))
                (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
                (local.set $p (local.get $s))
                (local.set $r (i32.const 0))
                (block $rdone
                  (loop $rl
                    (br_if $rdone (i32.ge_s (local.get $r) (local.get $h)))
                    (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
                      (f32.load (local.get $p)))
                    (local.set $p (i32.add (local.get $p) (local.get $sm)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rl)))
                (local.set $s (i32.add (local.get $s) (local.get $sk)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $kl2)))))))
        (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
        (br $panels))))

  ;; The 4x8 micro-kernel: a 4 x 8 tile of C (row stride ldc bytes) set to, or
  ;; with $acc incremented by, (4-row A panel) · (8-column B panel) over kc.
  ;; Eight accumulators stay in registers; each k broadcasts one A value per
  ;; row (v128.load32_splat) against two 4-wide B vectors.
  (func $tile
    (param $a i32) (param $b i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $acc i32)
    (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $p i32)
    (if (local.get $acc)
      (then
        (local.set $p (local.get $c))
        (local.set $c00 (v128.load (local.get $p)))
        (local.set $c01 (v128.load offset=16 (local.get $p)))
        (local.set $p (i32.add (local.get $p) (local.get $ldc)))
        (local.set $c10 (v128.load (local.get $p)))
        (local.set $c11 (v128.load offset=16 (local.get $p)))
        (local.set $p (i32.add (local.get $p) (local.get $ldc)))
        (local.set $c20 (v128.load (local.get $p)))
        (local.set $c21 (v128.load offset=16 (local.get $p)))
        (local.set $p (i32.add (local.get $p) (local.get $ldc)))
        (local.set $c30 (v128.load (local.get $p)))
        (local.set $c31 (v128.load offset=16 (local.get $p)))))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $kc) (i32.const 4))))
    ;; One k per iteration. Unrolling by 2 or 3 measured 35-40% slower under
    ;; V8's TurboFan (x64): the unrolled body's extra live values spill.
    (block $done
      (loop $k1
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $av (v128.load32_splat (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=8 (local.get $a)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat offset=12 (local.get $a)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $k1)))
    (local.set $p (local.get $c))
    (v128.store (local.get $p) (local.get $c00))
    (v128.store offset=16 (local.get $p) (local.get $c01))
    (local.set $p (i32.add (local.get $p) (local.get $ldc)))
    (v128.store (local.get $p) (local.get $c10))
    (v128.store offset=16 (local.get $p) (local.get $c11))
    (local.set $p (i32.add (local.get $p) (local.get $ldc)))
    (v128.store (local.get $p) (local.get $c20))
    (v128.store offset=16 (local.get $p) (local.get $c21))
    (local.set $p (i32.add (local.get $p) (local.get $ldc)))
    (v128.store (local.get $p) (local.get $c30))
    (v128.store offset=16 (local.get $p) (local.get $c31)))

  ;; Copy an h x w block of floats between row strides sld and dld (bytes).
  (func $copy_block
    (param $src i32) (param $sld i32) (param $dst i32) (param $dld i32) (param $h i32) (param $w i32)
    (local $r i32) (local $c i32)
    (block $rdone
      (loop $rl
        (br_if $rdone (i32.ge_s (local.get $r) (local.get $h)))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cl
            (br_if $cdone (i32.ge_s (local.get $c) (local.get $w)))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2)))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cl)))
        (local.set $src (i32.add (local.get $src) (local.get $sld)))
        (local.set $dst (i32.add (local.get $dst) (local.get $dld)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rl))))

  ;; Macro-kernel: every 4x8 tile of an mc x nc block of C (row stride ldc
  ;; bytes) from packed A (pack_a) and packed B (pack_b) of depth kc. With
  ;; $acc the product is added to C. Edge tiles go through the 128-byte
  ;; scratch tile $tmp so the micro-kernel never writes outside C.
  ;; Panels of B are the outer loop: one kc x 8 panel stays in L1 while the
  ;; A panels stream past it.
  (func $gemm (export "gemm")
    (param $ap i32) (param $bp i32) (param $mc i32) (param $nc i32) (param $kc i32)
    (param $c i32) (param $ldc i32) (param $acc i32) (param $tmp i32)
    (local $n0 i32) (local $m0 i32) (local $w i32) (local $h i32)
    (local $apan i32) (local $bpan i32) (local $crow i32)
    (local $astep i32) (local $cstep i32)
    (local.set $astep (i32.shl (local.get $kc) (i32.const 4)))
    (local.set $cstep (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $bpan (local.get $bp))
    (block $ndone
      (loop $nl
        (br_if $ndone (i32.ge_s (local.get $n0) (local.get $nc)))
        (local.set $w (i32.sub (local.get $nc) (local.get $n0)))
        (if (i32.gt_s (local.get $w) (i32.const 8)) (then (local.set $w (i32.const 8))))
        (local.set $m0 (i32.const 0))
        (local.set $apan (local.get $ap))
        (local.set $crow (i32.add (local.get $c) (i32.shl (local.get $n0) (i32.const 2))))
        (block $mdone
          (loop $ml
            (br_if $mdone (i32.ge_s (local.get $m0) (local.get $mc)))
            (local.set $h (i32.sub (local.get $mc) (local.get $m0)))
            (if (i32.gt_s (local.get $h) (i32.const 4)) (then (local.set $h (i32.const 4))))
            (if (i32.and (i32.eq (local.get $h) (i32.const 4)) (i32.eq (local.get $w) (i32.const 8)))
              (then
                (call $tile (local.get $apan) (local.get $bpan) (local.get $kc)
                  (local.get $crow) (local.get $ldc) (local.get $acc)))
              (else
                (if (local.get $acc)
                  (then
                    (call $copy_block (local.get $crow) (local.get $ldc) (local.get $tmp) (i32.const 32)
                      (local.get $h) (local.get $w))))
                (call $tile (local.get $apan) (local.get $bpan) (local.get $kc)
                  (local.get $tmp) (i32.const 32) (local.get $acc))
                (call $copy_block (local.get $tmp) (i32.const 32) (local.get $crow) (local.get $ldc)
                  (local.get $h) (local.get $w))))
            (local.set $apan (i32.add (local.get $apan) (local.get $astep)))
            (local.set $crow (i32.add (local.get $crow) (local.get $cstep)))
            (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
            (br $ml)))
        (local.set $bpan (i32.add (local.get $bpan) (i32.shl (local.get $kc) (i32.const 5))))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 8)))
        (br $nl))))
)
