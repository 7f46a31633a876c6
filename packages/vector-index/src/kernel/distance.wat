;; SIMD distance kernels for @plexus/vector-index.
;;
;; Vectors are stored with their dimension padded to a multiple of 4 (the
;; padding lanes are zero), so every loop works on whole f32x4 lanes and needs
;; no scalar tail. `dim` below is always that padded dimension.
;;
;; The batch entry points score one query against a list of vector ids in one
;; call: a JS -> wasm call costs about as much as a short distance, so the
;; graph search hands over all unvisited neighbours of a node at once.
;;
;; The memory is imported and shared so that worker_threads building one
;; index see the same vectors.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Squared L2 distance between the vectors at byte addresses $a and $b.
  (func $l2 (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $end i32) (local $end16 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $d v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $dim) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
    ;; Four independent accumulators hide the add latency.
    (block $done16
      (loop $loop16
        (br_if $done16 (i32.ge_u (local.get $a) (local.get $end16)))
        (local.set $d (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
        (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b))))
        (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $d (f32x4.sub (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b))))
        (local.set $acc3 (f32x4.add (local.get $acc3) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $loop16)))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $d (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
        (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $loop4)))
    (local.set $acc0 (f32x4.add
      (f32x4.add (local.get $acc0) (local.get $acc1))
      (f32x4.add (local.get $acc2) (local.get $acc3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))

  ;; Dot product of the vectors at byte addresses $a and $b.
  (func $dot (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $end i32) (local $end16 i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $dim) (i32.const 2))))
    (local.set $end16 (i32.add (local.get $a)
      (i32.shl (i32.and (local.get $dim) (i32.const -16)) (i32.const 2))))
    (block $done16
      (loop $loop16
        (br_if $done16 (i32.ge_u (local.get $a) (local.get $end16)))
        (local.set $acc0 (f32x4.add (local.get $acc0)
          (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $acc1 (f32x4.add (local.get $acc1)
          (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $acc2 (f32x4.add (local.get $acc2)
          (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
        (local.set $acc3 (f32x4.add (local.get $acc3)
          (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $loop16)))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc0 (f32x4.add (local.get $acc0)
          (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $loop4)))
    (local.set $acc0 (f32x4.add
      (f32x4.add (local.get $acc0) (local.get $acc1))
      (f32x4.add (local.get $acc2) (local.get $acc3))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))

  ;; Squared L2 between two stored vectors (byte addresses).
  (func (export "l2") (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (call $l2 (local.get $a) (local.get $b) (local.get $dim)))

  ;; Inner-product distance 1 - <a, b> (hnswlib's convention).
  (func (export "ip") (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (f32.sub (f32.const 1) (call $dot (local.get $a) (local.get $b) (local.get $dim))))

  ;; Wasm has no prefetch instruction. Loading the first word of every vector
  ;; of a batch up front lets the CPU overlap all their cache misses instead of
  ;; meeting them one distance at a time; the loads feed a store to out[0] so
  ;; they cannot be optimised away (out[0] is overwritten with a distance).
  (func $touch (param $base i32) (param $stride i32) (param $ids i32) (param $end i32) (param $out i32)
    (local $acc i32) (local $v i32) (local $vend i32)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (local.set $v (i32.add (local.get $base)
          (i32.mul (i32.load (local.get $ids)) (local.get $stride))))
        (local.set $vend (i32.add (local.get $v) (local.get $stride)))
        (block $lines_done
          (loop $lines
            (br_if $lines_done (i32.ge_u (local.get $v) (local.get $vend)))
            (local.set $acc (i32.xor (local.get $acc) (i32.load (local.get $v))))
            (local.set $v (i32.add (local.get $v) (i32.const 64)))
            (br $lines)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (br $loop)))
    (i32.store (local.get $out) (local.get $acc)))

  ;; out[i] = l2(q, base + ids[i] * stride) for i < n. Addresses in bytes.
  (func (export "l2_batch")
    (param $q i32) (param $base i32) (param $stride i32) (param $dim i32)
    (param $ids i32) (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $n) (i32.const 2))))
    (call $touch (local.get $base) (local.get $stride) (local.get $ids) (local.get $end) (local.get $out))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (f32.store (local.get $out)
          (call $l2 (local.get $q)
            (i32.add (local.get $base) (i32.mul (i32.load (local.get $ids)) (local.get $stride)))
            (local.get $dim)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; out[i] = 1 - <q, base + ids[i] * stride> for i < n. Addresses in bytes.
  (func (export "ip_batch")
    (param $q i32) (param $base i32) (param $stride i32) (param $dim i32)
    (param $ids i32) (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $n) (i32.const 2))))
    (call $touch (local.get $base) (local.get $stride) (local.get $ids) (local.get $end) (local.get $out))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (f32.store (local.get $out)
          (f32.sub (f32.const 1) (call $dot (local.get $q)
            (i32.add (local.get $base) (i32.mul (i32.load (local.get $ids)) (local.get $stride)))
            (local.get $dim))))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; out[j] = l2(q, base + j * stride) for j < n: a contiguous scan for brute force.
  (func (export "l2_scan")
    (param $q i32) (param $base i32) (param $stride i32) (param $dim i32)
    (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (call $l2 (local.get $q) (local.get $base) (local.get $dim)))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))

  ;; out[j] = 1 - <q, base + j * stride> for j < n.
  (func (export "ip_scan")
    (param $q i32) (param $base i32) (param $stride i32) (param $dim i32)
    (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (f32.sub (f32.const 1) (call $dot (local.get $q) (local.get $base) (local.get $dim))))
        (local.set $base (i32.add (local.get $base) (local.get $stride)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $loop))))
)
