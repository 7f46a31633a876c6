// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320; the value zlib's
// crc32() returns) with carry-less multiplication, after Gopal et al., "Fast
// CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Intel,
// 2009): the buffer is folded 64 bytes at a time in four 128-bit lanes (256
// bytes in sixteen lanes where AVX-512 VPCLMULQDQ exists), the
// lanes into one, and the remaining 16 bytes go through a table, so no
// Barrett step is needed. Falls back to the table (slicing by 8) without
// PCLMULQDQ or below 64 bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define PLEXUS_CRC32_X86 1
#endif

namespace plexus_crc32 {

struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};

inline const Tables& tables() {
  static const Tables instance;
  return instance;
}

// The raw register update (no pre/post inversion), slicing by 8.
inline uint32_t raw_table(uint32_t crc, const uint8_t* p, size_t n) {
  const Tables& T = tables();
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = T.t[7][lo & 0xff] ^ T.t[6][(lo >> 8) & 0xff] ^ T.t[5][(lo >> 16) & 0xff] ^
          T.t[4][lo >> 24] ^ T.t[3][hi & 0xff] ^ T.t[2][(hi >> 8) & 0xff] ^
          T.t[1][(hi >> 16) & 0xff] ^ T.t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ T.t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#ifdef PLEXUS_CRC32_X86
// One fold: the 128 bits of x move forward by the distance k encodes and land on next.
__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i x, __m128i k, __m128i next) {
  __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
  __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

// x^(4*128+32) mod P and x^(4*128-32) mod P (fold by 512 bits), then
// x^(128+32) and x^(128-32) (fold by 128 bits), bit-reflected and shifted
// left by one as the reflected carry-less products need.
__attribute__((target("pclmul,sse4.1"))) inline uint32_t raw_pclmul(uint32_t crc,
                                                                     const uint8_t* p,
                                                                     size_t n) {
  const __m128i k512 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
  const __m128i k128 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
  __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
  __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32));
  __m128i x3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48));
  x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128(static_cast<int>(crc)));
  p += 64;
  n -= 64;
  while (n >= 64) {
    x0 = fold(x0, k512, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    x1 = fold(x1, k512, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
    x2 = fold(x2, k512, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32)));
    x3 = fold(x3, k512, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48)));
    p += 64;
    n -= 64;
  }
  x0 = fold(x0, k128, x1);
  x0 = fold(x0, k128, x2);
  x0 = fold(x0, k128, x3);
  while (n >= 16) {
    x0 = fold(x0, k128, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    p += 16;
    n -= 16;
  }
  // x0 now stands for every byte so far as if they were its 16 bytes.
  uint8_t tail[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tail), x0);
  return raw_table(raw_table(0, tail, 16), p, n);
}

// Four 512-bit accumulators (sixteen 128-bit lanes) folded by 256 bytes with
// x^(2048+32) and x^(2048-32) mod P; the 256 folded bytes then stand for all
// the data so far and finish through the 128-bit path.
__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1"))) inline __m512i fold512(__m512i x,
                                                                                  __m512i k,
                                                                                  __m512i next) {
  __m512i lo = _mm512_clmulepi64_epi128(x, k, 0x00);
  __m512i hi = _mm512_clmulepi64_epi128(x, k, 0x11);
  return _mm512_ternarylogic_epi64(lo, hi, next, 0x96);
}

__attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1"))) inline uint32_t raw_vpclmul(
    uint32_t crc, const uint8_t* p, size_t n) {
  const __m512i k = _mm512_set_epi64(0x1322d1430LL, 0x11542778aLL, 0x1322d1430LL, 0x11542778aLL,
                                     0x1322d1430LL, 0x11542778aLL, 0x1322d1430LL, 0x11542778aLL);
  __m512i a0 = _mm512_loadu_si512(p);
  __m512i a1 = _mm512_loadu_si512(p + 64);
  __m512i a2 = _mm512_loadu_si512(p + 128);
  __m512i a3 = _mm512_loadu_si512(p + 192);
  a0 = _mm512_xor_si512(a0, _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(crc))));
  p += 256;
  n -= 256;
  while (n >= 256) {
    a0 = fold512(a0, k, _mm512_loadu_si512(p));
    a1 = fold512(a1, k, _mm512_loadu_si512(p + 64));
    a2 = fold512(a2, k, _mm512_loadu_si512(p + 128));
    a3 = fold512(a3, k, _mm512_loadu_si512(p + 192));
    p += 256;
    n -= 256;
  }
  alignas(64) uint8_t folded[256];
  _mm512_store_si512(folded, a0);
  _mm512_store_si512(folded + 64, a1);
  _mm512_store_si512(folded + 128, a2);
  _mm512_store_si512(folded + 192, a3);
  const uint32_t c = raw_pclmul(0, folded, 256);
  return n >= 64 ? raw_pclmul(c, p, n) : raw_table(c, p, n);
}

inline bool has_vpclmul() {
  static const bool yes = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("pclmul");
  return yes;
}

inline bool has_pclmul() {
  static const bool yes = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return yes;
}
#endif

/** zlib-compatible: crc32(crc32(0, a), b) == crc32(0, a ++ b). */
inline uint32_t update(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
#ifdef PLEXUS_CRC32_X86
  if (n >= 512 && has_vpclmul()) return ~raw_vpclmul(c, p, n);
  if (n >= 64 && has_pclmul()) return ~raw_pclmul(c, p, n);
#endif
  return ~raw_table(c, p, n);
}

// crc32 of `a ++ b` from crc32(a), crc32(b) and b's length (zlib's
// crc32_combine: multiply crc(a) by x^(8 len) modulo the polynomial), so a
// checksum taken early over a payload can be joined to a header written later.
inline uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ 0xedb88320u : b >> 1;
  }
  return p;
}

inline uint32_t x2nmodp(uint64_t n, unsigned k) {
  static const auto table = [] {
    std::array<uint32_t, 32> t{};
    uint32_t p = 1u << 30;  // x^1
    t[0] = p;
    for (int i = 1; i < 32; i++) t[i] = p = multmodp(p, p);
    return t;
  }();
  uint32_t p = 1u << 31;  // x^0
  while (n) {
    if (n & 1) p = multmodp(table[k & 31], p);
    n >>= 1;
    k++;
  }
  return p;
}

inline uint32_t combine(uint32_t crcA, uint32_t crcB, uint64_t lengthB) {
  return multmodp(x2nmodp(lengthB, 3), crcA) ^ crcB;
}

}  // namespace plexus_crc32
