// The row kernels in AVX2 + FMA + F16C (row_kernels.h says what each computes; the portable
// twins in row_kernels.cpp give the same answers). Each function carries its own target
// attribute, so the build needs no -march and the kernels run only where avx2Kernels() says the
// CPU has them.
#include "core/heads/row_kernels_impl.h"

#include <algorithm>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FOVEA_ROW_KERNELS_AVX2 1
#include <immintrin.h>
#endif

namespace fovea::heads_detail::row_impl {

#ifdef FOVEA_ROW_KERNELS_AVX2

namespace {

#define FOVEA_AVX2 __attribute__((target("avx2,fma,f16c")))

// log2 x for x > 0 (see kLog2P); 0 gives -127.
FOVEA_AVX2 inline __m256 log2Positive8(__m256 x) {
    const __m256i bits = _mm256_castps_si256(x);
    const __m256 exponent =
        _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    const __m256 f = _mm256_sub_ps(
        _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFF)),
                                            _mm256_set1_epi32(0x3F800000))),
        _mm256_set1_ps(1.0f));
    __m256 p = _mm256_set1_ps(kLog2P[5]);
    for (int i = 4; i >= 0; --i) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kLog2P[i]));
    return _mm256_fmadd_ps(f, p, exponent);
}

FOVEA_AVX2 inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FOVEA_AVX2 inline float max8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FOVEA_AVX2 inline int sum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// max(v, 0) maps NaN to 0 (MAXPS returns its second operand when either is NaN); the key bits
// then clear masked keys.
template <bool kMasked>
FOVEA_AVX2 inline __m256 keep8(__m256 v, const std::uint32_t* keyBits) {
    if (!kMasked) return _mm256_max_ps(v, _mm256_setzero_ps());
    return _mm256_and_ps(_mm256_max_ps(v, _mm256_setzero_ps()),
                         _mm256_loadu_ps(reinterpret_cast<const float*>(keyBits)));
}

template <typename T>
FOVEA_AVX2 inline __m256 load8(const T* in);
template <>
FOVEA_AVX2 inline __m256 load8(const std::uint16_t* in) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
}
template <>
FOVEA_AVX2 inline __m256 load8(const float* in) {
    return _mm256_loadu_ps(in);
}

// For each 8-bit lane mask, the lanes to move to the front (a compress by permutation). Built by
// the compiler: a function-local table cost a guard check and a call per row.
struct CompressTable {
    alignas(32) std::int32_t lanes[256][8] = {};
    constexpr CompressTable() {
        for (int mask = 0; mask < 256; ++mask) {
            int n = 0;
            for (int lane = 0; lane < 8; ++lane) {
                if (mask & (1 << lane)) lanes[mask][n++] = lane;
            }
        }
    }
};

constexpr CompressTable kCompressTable{};

// Appends the lanes of v set in `mask` to out + n; returns the new n.
FOVEA_AVX2 inline int compress8(__m256 v, int mask, float* out, int n, const CompressTable& table) {
    const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.lanes[mask]));
    _mm256_storeu_ps(out + n, _mm256_permutevar8x32_ps(v, lanes));
    return n + __builtin_popcount(unsigned(mask));
}

#define FOVEA_AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) inline

// Adds the lanes of v at or above `threshold` to mass and counts them (count lanes step by 1);
// returns the lanes' mask.
FOVEA_AVX2_INLINE __m256 addAtLeast(__m256 v, __m256 threshold, __m256& mass, __m256i& count) {
    const __m256 at = _mm256_cmp_ps(v, threshold, _CMP_GE_OQ);
    mass = _mm256_add_ps(mass, _mm256_and_ps(v, at));
    count = _mm256_sub_epi32(count, _mm256_castps_si256(at));
    return at;
}

// The work on 8 kept values of a row (loadAvx2).
template <bool kXLogX, bool kBracket>
FOVEA_AVX2_INLINE void sweep8(__m256 a, __m256& sum, __m256& xlogx, __m256& maximum, __m256& above,
                              __m256i& aboveCount, __m256 low, __m256 high, float* bracketOut,
                              int& inside, const CompressTable& table) {
    sum = _mm256_add_ps(sum, a);
    if (!kBracket) maximum = _mm256_max_ps(maximum, a);  // keysForMass finds it when it needs it
    if (kXLogX) xlogx = _mm256_fmadd_ps(a, log2Positive8(a), xlogx);  // in log2
    if (kBracket) {
        const __m256 atLow = _mm256_cmp_ps(a, low, _CMP_GE_OQ);
        const __m256 atHigh = addAtLeast(a, high, above, aboveCount);
        inside = compress8(a, _mm256_movemask_ps(_mm256_andnot_ps(atHigh, atLow)), bracketOut,
                           inside, table);
    }
}

// One row in one sweep: kept values stored, their sum, maximum and (kXLogX) sum of v ln v; with
// kBracket, the mass and count at or above hi and the values in [lo, hi) copied out.
template <bool kXLogX, bool kBracket, bool kMasked, typename T>
FOVEA_AVX2 RowTotals loadAvx2(const T* in, int readable, const std::uint32_t* keyBits, int end,
                              float* out, RowBracket* bracket, float* bracketOut) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, x0 = s0, x1 = s0, m0 = s0, m1 = s0, above = s0;
    __m256i aboveCount = _mm256_setzero_si256();
    const __m256 low = _mm256_set1_ps(kBracket ? bracket->lo : 0.0f);
    const __m256 high = _mm256_set1_ps(kBracket ? bracket->hi : 0.0f);
    const CompressTable& table = kCompressTable;
    int inside = 0;
    int k = 0;
    for (; k + 16 <= end; k += 16) {
        const __m256 a = keep8<kMasked>(load8(in + k), keyBits + k);
        const __m256 b = keep8<kMasked>(load8(in + k + 8), keyBits + k + 8);
        _mm256_storeu_ps(out + k, a);
        _mm256_storeu_ps(out + k + 8, b);
        sweep8<kXLogX, kBracket>(a, s0, x0, m0, above, aboveCount, low, high, bracketOut, inside,
                                 table);
        sweep8<kXLogX, kBracket>(b, s1, x1, m1, above, aboveCount, low, high, bracketOut, inside,
                                 table);
    }
    if (k + 8 <= end) {
        const __m256 a = keep8<kMasked>(load8(in + k), keyBits + k);
        _mm256_storeu_ps(out + k, a);
        sweep8<kXLogX, kBracket>(a, s0, x0, m0, above, aboveCount, low, high, bracketOut, inside,
                                 table);
        k += 8;
    }
    if (k < end && readable >= k + 8) {  // the last 1..7 keys, the lanes past the row masked
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 live =
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(end - k), lanes));
        const __m256 a = _mm256_and_ps(keep8<kMasked>(load8(in + k), keyBits + k), live);
        _mm256_storeu_ps(out + k, a);
        sweep8<kXLogX, kBracket>(a, s0, x0, m0, above, aboveCount, low, high, bracketOut, inside,
                                 table);
    } else if (k < end) {  // the same through a zero-padded copy: the row ends its buffer
        T tail[8] = {};
        std::uint32_t tailBits[8] = {};
        for (int i = 0; k + i < end; ++i) {
            tail[i] = in[k + i];
            tailBits[i] = kMasked ? keyBits[k + i] : ~0u;
        }
        const __m256 a = keep8<true>(load8(tail), tailBits);
        alignas(32) float values[8];
        _mm256_store_ps(values, a);
        for (int i = 0; k + i < end; ++i) out[k + i] = values[i];
        sweep8<kXLogX, kBracket>(a, s0, x0, m0, above, aboveCount, low, high, bracketOut, inside,
                                 table);
    }
    RowTotals totals;
    totals.sum = sum8(_mm256_add_ps(s0, s1));
    totals.xlogx = kXLogX ? sum8(_mm256_add_ps(x0, x1)) * kLn2 : 0.0f;
    totals.maximum = kBracket ? -1.0f : max8(_mm256_max_ps(m0, m1));
    if (kBracket) {
        bracket->massAbove = sum8(above);
        bracket->countAbove = sum8(aboveCount);
        bracket->inside = inside;
    }
    return totals;
}

template <bool kMasked, typename T>
FOVEA_AVX2 RowTotals loadMaskedAvx2(const T* in, int readable, const std::uint32_t* keyBits,
                                    int end, float* out, bool wantXLogX, RowBracket* bracket,
                                    float* bracketOut) {
    if (bracket != nullptr)
        return wantXLogX ? loadAvx2<true, true, kMasked>(in, readable, keyBits, end, out, bracket,
                                                         bracketOut)
                         : loadAvx2<false, true, kMasked>(in, readable, keyBits, end, out, bracket,
                                                          bracketOut);
    return wantXLogX
               ? loadAvx2<true, false, kMasked>(in, readable, keyBits, end, out, nullptr, nullptr)
               : loadAvx2<false, false, kMasked>(in, readable, keyBits, end, out, nullptr, nullptr);
}

// keyBits == nullptr: every key is valid (no padding), one operation less per 8 values.
template <typename T>
FOVEA_AVX2 RowTotals loadAnyAvx2(const T* in, int readable, const std::uint32_t* keyBits, int end,
                                 float* out, bool wantXLogX, RowBracket* bracket,
                                 float* bracketOut) {
    return keyBits != nullptr ? loadMaskedAvx2<true>(in, readable, keyBits, end, out, wantXLogX,
                                                     bracket, bracketOut)
                              : loadMaskedAvx2<false>(in, readable, keyBits, end, out, wantXLogX,
                                                      bracket, bracketOut);
}

FOVEA_AVX2 RowTotals loadHalfAvx2(const std::uint16_t* in, int readable,
                                  const std::uint32_t* keyBits, int end, float* out, bool wantXLogX,
                                  RowBracket* bracket, float* bracketOut) {
    return loadAnyAvx2(in, readable, keyBits, end, out, wantXLogX, bracket, bracketOut);
}

FOVEA_AVX2 RowTotals loadFloatAvx2(const float* in, int readable, const std::uint32_t* keyBits,
                                   int end, float* out, bool wantXLogX, RowBracket* bracket,
                                   float* bracketOut) {
    return loadAnyAvx2(in, readable, keyBits, end, out, wantXLogX, bracket, bracketOut);
}

FOVEA_AVX2 void addScaledAvx2(float* target, const float* source, int count, float scale) {
    const __m256 factor = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 32 <= count; i += 32) {  // four vectors a step: less loop work per value
        for (int j = 0; j < 32; j += 8)
            _mm256_storeu_ps(target + i + j,
                             _mm256_fmadd_ps(_mm256_loadu_ps(source + i + j), factor,
                                             _mm256_loadu_ps(target + i + j)));
    }
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(target + i, _mm256_fmadd_ps(_mm256_loadu_ps(source + i), factor,
                                                     _mm256_loadu_ps(target + i)));
    if (i < count) {  // the extra lanes add 0
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 live =
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(count - i), lanes));
        _mm256_storeu_ps(target + i,
                         _mm256_fmadd_ps(_mm256_and_ps(_mm256_loadu_ps(source + i), live), factor,
                                         _mm256_loadu_ps(target + i)));
    }
}

FOVEA_AVX2 void addScaledRowsAvx2(float* target, int targetStride, const float* source,
                                  int sourceStride, int rows, int cols, float scale) {
    const __m256 factor = _mm256_set1_ps(scale);
    const int full = cols / 8 * 8;
    const __m256 live = _mm256_castsi256_ps(_mm256_cmpgt_epi32(
        _mm256_set1_epi32(cols - full), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
    if (cols > 8 && cols < 16) {
        // Grids 9 to 15 patches wide (ViT-B/16 at 224 px: 14): two vectors a row, no loop over
        // the columns.
        for (int r = 0; r < rows; ++r, target += targetStride, source += sourceStride) {
            _mm256_storeu_ps(
                target, _mm256_fmadd_ps(_mm256_loadu_ps(source), factor, _mm256_loadu_ps(target)));
            _mm256_storeu_ps(target + 8,
                             _mm256_fmadd_ps(_mm256_and_ps(_mm256_loadu_ps(source + 8), live),
                                             factor, _mm256_loadu_ps(target + 8)));
        }
        return;
    }
    for (int r = 0; r < rows; ++r, target += targetStride, source += sourceStride) {
        int i = 0;
        for (; i < full; i += 8)
            _mm256_storeu_ps(target + i, _mm256_fmadd_ps(_mm256_loadu_ps(source + i), factor,
                                                         _mm256_loadu_ps(target + i)));
        if (i < cols)  // the extra lanes add 0
            _mm256_storeu_ps(target + i,
                             _mm256_fmadd_ps(_mm256_and_ps(_mm256_loadu_ps(source + i), live),
                                             factor, _mm256_loadu_ps(target + i)));
    }
}

FOVEA_AVX2 MassCount massAtLeastAvx2(const float* row, int padded, float t) {
    const __m256 threshold = _mm256_set1_ps(t);
    __m256 m0 = _mm256_setzero_ps(), m1 = m0;
    __m256i c0 = _mm256_setzero_si256(), c1 = c0;
    int k = 0;
    for (; k + 16 <= padded; k += 16) {  // two chains of adds
        addAtLeast(_mm256_loadu_ps(row + k), threshold, m0, c0);
        addAtLeast(_mm256_loadu_ps(row + k + 8), threshold, m1, c1);
    }
    if (k < padded) addAtLeast(_mm256_loadu_ps(row + k), threshold, m0, c0);
    return {sum8(_mm256_add_ps(m0, m1)), sum8(_mm256_add_epi32(c0, c1))};
}

FOVEA_AVX2 int collectAvx2(const float* row, int padded, float lo, float hi, float* bracket,
                           double* massAbove, int* countAbove) {
    const __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    __m256d m0 = _mm256_setzero_pd(), m1 = m0;
    __m256i count = _mm256_setzero_si256();
    int n = 0;
    for (int k = 0; k < padded; k += 8) {
        const __m256 v = _mm256_loadu_ps(row + k);
        const __m256 above = _mm256_cmp_ps(v, high, _CMP_GE_OQ);
        const __m256 inside = _mm256_andnot_ps(above, _mm256_cmp_ps(v, low, _CMP_GE_OQ));
        const __m256 kept = _mm256_and_ps(v, above);
        m0 = _mm256_add_pd(m0, _mm256_cvtps_pd(_mm256_castps256_ps128(kept)));
        m1 = _mm256_add_pd(m1, _mm256_cvtps_pd(_mm256_extractf128_ps(kept, 1)));
        count = _mm256_sub_epi32(count, _mm256_castps_si256(above));
        unsigned lanes = unsigned(_mm256_movemask_ps(inside));
        while (lanes != 0) {
            bracket[n++] = row[k + __builtin_ctz(lanes)];
            lanes &= lanes - 1;
        }
    }
    const __m256d m = _mm256_add_pd(m0, m1);
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(m), _mm256_extractf128_pd(m, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    *massAbove = _mm_cvtsd_f64(s);
    *countAbove = sum8(count);
    return n;
}

FOVEA_AVX2 BracketCounts bracketAvx2(const float* row, int length, float lo, float hi, float* out) {
    const __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    const CompressTable& table = kCompressTable;
    __m256 massLo = _mm256_setzero_ps(), massHi = massLo;
    __m256i countLo = _mm256_setzero_si256(), countHi = countLo;
    int n = 0;
    for (int k = 0; k < length; k += 8) {
        const __m256 v = _mm256_loadu_ps(row + k);
        const __m256 aboveLo = addAtLeast(v, low, massLo, countLo);
        const __m256 aboveHi = addAtLeast(v, high, massHi, countHi);
        n = compress8(v, _mm256_movemask_ps(_mm256_andnot_ps(aboveHi, aboveLo)), out, n, table);
    }
    BracketCounts b;
    b.atLo = {sum8(massLo), sum8(countLo)};
    b.atHi = {sum8(massHi), sum8(countHi)};
    b.inside = n;
    return b;
}

// One compare-exchange stage of a bitonic network within 8 lanes: each lane meets the lane
// `distance` away; the lanes set in kTakeMax keep the larger value, the others the smaller.
template <int kDistance, int kTakeMax>
FOVEA_AVX2 inline __m256 exchange(__m256 v) {
    __m256 partner;
    if (kDistance == 1)
        partner = _mm256_permute_ps(v, 0xB1);
    else if (kDistance == 2)
        partner = _mm256_permute_ps(v, 0x4E);
    else
        partner = _mm256_permute2f128_ps(v, v, 1);
    return _mm256_blend_ps(_mm256_min_ps(v, partner), _mm256_max_ps(v, partner), kTakeMax);
}

// 16 values in two registers sorted descending (Batcher's bitonic sort): each half sorted, the
// first descending and the second ascending, then merged.
FOVEA_AVX2_INLINE void sort16Descending(__m256& a, __m256& b) {
    // Blocks of 2, then of 4, alternating in direction.
    a = exchange<1, 0x99>(a);
    b = exchange<1, 0x99>(b);
    a = exchange<1, 0xA5>(exchange<2, 0xC3>(a));
    b = exchange<1, 0xA5>(exchange<2, 0xC3>(b));
    // Blocks of 8: a descending, b ascending.
    a = exchange<1, 0x55>(exchange<2, 0x33>(exchange<4, 0x0F>(a)));
    b = exchange<1, 0xAA>(exchange<2, 0xCC>(exchange<4, 0xF0>(b)));
    // The bitonic 16: larger halves into a, then each register merged descending.
    const __m256 high = _mm256_max_ps(a, b), low = _mm256_min_ps(a, b);
    a = exchange<1, 0x55>(exchange<2, 0x33>(exchange<4, 0x0F>(high)));
    b = exchange<1, 0x55>(exchange<2, 0x33>(exchange<4, 0x0F>(low)));
}

// Inclusive running sums of the 8 lanes of v.
FOVEA_AVX2 inline __m256 runningSum8(__m256 v) {
    v = _mm256_add_ps(v, _mm256_castsi256_ps(_mm256_slli_si256(_mm256_castps_si256(v), 4)));
    v = _mm256_add_ps(v, _mm256_castsi256_ps(_mm256_slli_si256(_mm256_castps_si256(v), 8)));
    const __m256 lowTotal = _mm256_shuffle_ps(v, v, 0xFF);  // lane 3 (and 7) broadcast per half
    return _mm256_add_ps(v, _mm256_permute2f128_ps(lowTotal, lowTotal, 0x08));
}

FOVEA_AVX2 int fewest16Avx2(float* values, int n, float remaining, float margin, bool* close) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i count = _mm256_set1_epi32(n);
    __m256 a = _mm256_and_ps(_mm256_loadu_ps(values),
                             _mm256_castsi256_ps(_mm256_cmpgt_epi32(count, lanes)));
    __m256 b = _mm256_and_ps(_mm256_loadu_ps(values + 8),
                             _mm256_castsi256_ps(_mm256_cmpgt_epi32(
                                 count, _mm256_add_epi32(lanes, _mm256_set1_epi32(8)))));
    sort16Descending(a, b);
    _mm256_storeu_ps(values, a);
    _mm256_storeu_ps(values + 8, b);
    const __m256 first = runningSum8(a);
    const __m256 second =
        _mm256_add_ps(runningSum8(b), _mm256_permutevar8x32_ps(first, _mm256_set1_epi32(7)));
    const __m256 need = _mm256_set1_ps(remaining), slack = _mm256_set1_ps(margin);
    const int below = __builtin_popcount(
        unsigned(_mm256_movemask_ps(_mm256_cmp_ps(first, need, _CMP_LT_OQ)) |
                 (_mm256_movemask_ps(_mm256_cmp_ps(second, need, _CMP_LT_OQ)) << 8)));
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const __m256 nearFirst =
        _mm256_cmp_ps(_mm256_andnot_ps(signBit, _mm256_sub_ps(first, need)), slack, _CMP_LT_OQ);
    const __m256 nearSecond =
        _mm256_cmp_ps(_mm256_andnot_ps(signBit, _mm256_sub_ps(second, need)), slack, _CMP_LT_OQ);
    *close = _mm256_movemask_ps(_mm256_or_ps(nearFirst, nearSecond)) != 0;
    return std::min(n + 1, below + 1);
}

// Lanes reversed: a descending register read backwards is ascending.
FOVEA_AVX2 inline __m256 reverse8(__m256 v) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}

// The 8 lanes of a bitonic register sorted descending.
FOVEA_AVX2 inline __m256 merge8Descending(__m256 v) {
    return exchange<1, 0x55>(exchange<2, 0x33>(exchange<4, 0x0F>(v)));
}

FOVEA_AVX2 int fewest32Avx2(float* values, int n, float remaining, float margin, bool* close) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i count = _mm256_set1_epi32(n);
    __m256 v[4];
    for (int r = 0; r < 4; ++r)
        v[r] = _mm256_and_ps(_mm256_loadu_ps(values + 8 * r),
                             _mm256_castsi256_ps(_mm256_cmpgt_epi32(
                                 count, _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * r)))));
    // Two sorted 16s; the second read backwards makes one bitonic 32, merged: the distance 16
    // splits it into the larger and the smaller 16 (each bitonic), distance 8 and the lanes
    // finish each.
    sort16Descending(v[0], v[1]);
    sort16Descending(v[2], v[3]);
    const __m256 up0 = reverse8(v[3]), up1 = reverse8(v[2]);
    const __m256 a = _mm256_max_ps(v[0], up0), c = _mm256_min_ps(v[0], up0);
    const __m256 b = _mm256_max_ps(v[1], up1), d = _mm256_min_ps(v[1], up1);
    const __m256 sorted[4] = {
        merge8Descending(_mm256_max_ps(a, b)), merge8Descending(_mm256_min_ps(a, b)),
        merge8Descending(_mm256_max_ps(c, d)), merge8Descending(_mm256_min_ps(c, d))};
    const __m256 need = _mm256_set1_ps(remaining), slack = _mm256_set1_ps(margin);
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    __m256 carry = _mm256_setzero_ps();
    unsigned below = 0, near = 0;
    for (int r = 0; r < 4; ++r) {
        _mm256_storeu_ps(values + 8 * r, sorted[r]);
        const __m256 running = _mm256_add_ps(runningSum8(sorted[r]), carry);
        carry = _mm256_permutevar8x32_ps(running, _mm256_set1_epi32(7));
        below |= unsigned(_mm256_movemask_ps(_mm256_cmp_ps(running, need, _CMP_LT_OQ))) << (8 * r);
        near |= unsigned(_mm256_movemask_ps(_mm256_cmp_ps(
            _mm256_andnot_ps(signBit, _mm256_sub_ps(running, need)), slack, _CMP_LT_OQ)));
    }
    *close = near != 0;
    return std::min(n + 1, __builtin_popcount(below) + 1);
}

constexpr Kernels kAvx2Table = {loadHalfAvx2,      loadFloatAvx2,   addScaledAvx2,
                                addScaledRowsAvx2, massAtLeastAvx2, bracketAvx2,
                                collectAvx2,       fewest16Avx2,    fewest32Avx2};

}  // namespace

const Kernels* avx2Kernels() {
    __builtin_cpu_init();
    const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                     __builtin_cpu_supports("f16c");
    return cpu ? &kAvx2Table : nullptr;
}
#else
const Kernels* avx2Kernels() {
    return nullptr;
}
#endif

}  // namespace fovea::heads_detail::row_impl
