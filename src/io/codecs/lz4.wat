;; LZ4 block decoder (the raw block format ROOT stores in its L4 baskets) for src/io/codecs/lz4.ts.
;; Compiled to the bytes in ./lz4-wasm.ts by scripts/build-lz4-wasm.mjs.
;;
;; Why WebAssembly: the JS decoder copies literals and matches byte by byte (~0.8 GB/s on real
;; baskets); here they move 8 bytes at a time, and long literal runs with memory.copy. The block and
;; its output both live in this module's memory; the caller copies them in and out (memcpy speed).
;;
;; decode(src, srcEnd, dst, dstEnd) decodes the block in [src, srcEnd) to [dst, dstEnd) and returns
;; the number of bytes written, or a negative code for a damaged block:
;;   -1 literals run past the end of the block   -2 output larger than dstEnd - dst
;;   -3 match offset runs past the end           -4 match offset before the start of the output
;;   -5 match length runs past the end
;; Every length is checked against what remains before it is used, so no read or write goes beyond
;; 16 bytes after srcEnd or dstEnd: the wide copies below may touch that much slack, which the caller
;; keeps free in memory (the bytes past the output are garbage, never part of the result).
(module
  (memory (export "memory") 1)
  (func (export "decode") (param $src i32) (param $srcEnd i32) (param $dst i32) (param $dstEnd i32) (result i32)
    (local $s i32) (local $d i32) (local $token i32) (local $len i32) (local $b i32)
    (local $off i32) (local $m i32) (local $end i32) (local $p i64)
    (local.set $s (local.get $src))
    (local.set $d (local.get $dst))
    (block $done
      (loop $seq
        (br_if $done (i32.ge_u (local.get $s) (local.get $srcEnd)))
        (local.set $token (i32.load8_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        ;; Literal length: the token's high nibble, 15 meaning more bytes follow (255 = keep going).
        (local.set $len (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $ext
              (if (i32.ge_u (local.get $s) (local.get $srcEnd)) (then (return (i32.const -1))))
              (local.set $b (i32.load8_u (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              ;; Checked on every byte, so the sum cannot wrap around.
              (if (i32.gt_u (local.get $len) (i32.sub (local.get $srcEnd) (local.get $s))) (then (return (i32.const -1))))
              (br_if $ext (i32.eq (local.get $b) (i32.const 255))))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $srcEnd) (local.get $s))) (then (return (i32.const -1))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $dstEnd) (local.get $d))) (then (return (i32.const -2))))
        ;; Literals: most runs are short (a float basket's average is ~25 bytes): up to 16 bytes as two
        ;; 8-byte words, the rest with memory.copy.
        (if (i32.le_u (local.get $len) (i32.const 16))
          (then
            (i64.store (local.get $d) (i64.load (local.get $s)))
            (i64.store offset=8 (local.get $d) (i64.load offset=8 (local.get $s))))
          (else (memory.copy (local.get $d) (local.get $s) (local.get $len))))
        (local.set $s (i32.add (local.get $s) (local.get $len)))
        (local.set $d (i32.add (local.get $d) (local.get $len)))
        ;; The last sequence has literals only.
        (br_if $done (i32.eq (local.get $s) (local.get $srcEnd)))
        (if (i32.gt_u (i32.add (local.get $s) (i32.const 2)) (local.get $srcEnd)) (then (return (i32.const -3))))
        (local.set $off (i32.load16_u (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 2)))
        (if (i32.or (i32.eqz (local.get $off)) (i32.gt_u (local.get $off) (i32.sub (local.get $d) (local.get $dst))))
          (then (return (i32.const -4))))
        ;; Match length: the low nibble + 4, extended like the literal length.
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $ext2
              (if (i32.ge_u (local.get $s) (local.get $srcEnd)) (then (return (i32.const -5))))
              (local.set $b (i32.load8_u (local.get $s)))
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (if (i32.gt_u (local.get $len) (i32.sub (local.get $dstEnd) (local.get $d))) (then (return (i32.const -2))))
              (br_if $ext2 (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $dstEnd) (local.get $d))) (then (return (i32.const -2))))
        (local.set $m (i32.sub (local.get $d) (local.get $off)))
        (local.set $end (i32.add (local.get $d) (local.get $len)))
        (if (i32.ge_u (local.get $off) (i32.const 8))
          (then
            ;; 8 bytes at a time: with the source at least 8 bytes back, each word it reads is written.
            (loop $w
              (i64.store (local.get $d) (i64.load (local.get $m)))
              (local.set $d (i32.add (local.get $d) (i32.const 8)))
              (local.set $m (i32.add (local.get $m) (i32.const 8)))
              (br_if $w (i32.lt_u (local.get $d) (local.get $end)))))
          (else
            (if (i32.eq (local.get $off) (i32.const 4))
              (then
                ;; A 4-byte pattern repeated, the commonest overlap (counters, entry-offset tables).
                (local.set $p (i64.extend_i32_u (i32.load (local.get $m))))
                (local.set $p (i64.or (local.get $p) (i64.shl (local.get $p) (i64.const 32))))
                (loop $q
                  (i64.store (local.get $d) (local.get $p))
                  (local.set $d (i32.add (local.get $d) (i32.const 8)))
                  (br_if $q (i32.lt_u (local.get $d) (local.get $end)))))
              (else
                ;; Other overlaps (offsets 1-3, 5-7) repeat the last `off` bytes: byte by byte.
                (loop $byte
                  (i32.store8 (local.get $d) (i32.load8_u (local.get $m)))
                  (local.set $d (i32.add (local.get $d) (i32.const 1)))
                  (local.set $m (i32.add (local.get $m) (i32.const 1)))
                  (br_if $byte (i32.lt_u (local.get $d) (local.get $end))))))))
        (local.set $d (local.get $end))
        (br $seq)))
    (i32.sub (local.get $d) (local.get $dst))))
