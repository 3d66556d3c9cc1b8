#include "core/heads/row_kernels.h"

#include "core/io/safetensors.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FOVEA_ROW_KERNELS_AVX2 1
#include <immintrin.h>
#endif

namespace fovea::heads_detail {

namespace {

// log2(1 + f) = f P(f) on [0, 1), P of degree 5 fitted by iteratively reweighted least squares
// to the minimax error (2.2e-6, i.e. 1.5e-6 in ln, in float32 arithmetic). No range reduction,
// and base 2 so that the exponent adds without a multiply: an entropy needs sum a log2 a, and
// the vector pipes, not the accuracy, are what limit it.
constexpr float kLog2P[6] = {1.442553163f,  -0.718282282f, 0.458272517f,
                             -0.279541939f, 0.123455286f,  -0.026458861f};
constexpr float kLn2 = 0.693147181f;

// The threshold search starts from a bracket around the previous row's crossing (rows of one
// head are alike); it copies the values between its bounds out of the row once this few are
// left (or after kFullPasses passes over the whole row), searches the copy, and sorts the last
// kFinalBracket values; it gives up to the exact resolution after kMaxPasses.
constexpr int kCompactBelow = 48;
constexpr int kFullPasses = 3;
constexpr int kMaxPasses = 40;
constexpr int kFinalBracket = 16;
// A pass's mass is a float sum; closer than this (relative to the row's total) to `need`, the
// search does not decide and the exact (double) resolution does.
constexpr double kMassMargin = 2e-5;

struct MassCount {
    float mass = 0.0f;
    int count = 0;
};

struct BracketCounts {
    MassCount atLo, atHi;  // mass and count of the values >= lo and >= hi
    int inside = 0;        // values in [lo, hi), copied out
};

// The operations with an AVX2 twin. Rows are padded (row_kernels.h); `length` is a multiple of 8.
struct Kernels {
    // Loads a row; with a bracket, also counts and copies out the values in [lo, hi).
    RowTotals (*loadHalf)(const std::uint16_t*, int, const std::uint32_t*, int, float*, bool,
                          RowBracket*, float*);
    RowTotals (*loadFloat)(const float*, int, const std::uint32_t*, int, float*, bool, RowBracket*,
                           float*);
    void (*addScaled)(float*, const float*, int, float);
    void (*addScaledRows)(float*, int, const float*, int, int, int, float);
    MassCount (*massAtLeast)(const float*, int, float);
    // Counts at lo and hi, and the values in [lo, hi) copied to `out` in row order (out needs
    // length + 8 floats; it may be the input itself).
    BracketCounts (*bracket)(const float*, int, float, float, float*);
    // Values in [lo, hi) into `out` (returns how many); the mass of values >= hi in double and
    // their count through the last two arguments.
    int (*collect)(const float*, int, float, float, float*, double*, int*);
    // values[0, n) (n <= 16; the buffer has 16 floats of room, those past n are ignored) sorted
    // descending in place; returns the fewest of them whose sum reaches `remaining` (n + 1 when
    // all of them do not), and sets `close` when a running sum is within `margin` of it.
    int (*fewest16)(float*, int, float, float, bool*);
};

// ---- portable ----

// All 65,536 float16 values as float32 with v ln v beside them (0 for v <= 0 and non-finite v):
// the portable kernels read a float16 row with one lookup per value.
struct HalfEntry {
    float value;
    float valueLogValue;
};

const HalfEntry* halfTable() {
    static const std::vector<HalfEntry> table = [] {
        std::vector<HalfEntry> t(65536);
        for (std::size_t i = 0; i < t.size(); ++i) {
            const float v = halfToFloat(std::uint16_t(i));
            t[i].value = v;
            t[i].valueLogValue =
                v > 0.0f && std::isfinite(v) ? float(double(v) * std::log(double(v))) : 0.0f;
        }
        return t;
    }();
    return table.data();
}

inline float keep(float v, std::uint32_t bits) {
    return bits != 0 && v > 0.0f ? v : 0.0f;
}

inline float read(const std::uint16_t* in, int k, float* xlogx) {
    const HalfEntry& e = halfTable()[in[k]];
    *xlogx = e.valueLogValue;
    return e.value;
}
inline float read(const float* in, int k, float* xlogx) {
    *xlogx = in[k] > 0.0f ? in[k] * logPositive(in[k]) : 0.0f;
    return in[k];
}

template <bool kXLogX, bool kBracket, typename T>
RowTotals loadPortable(const T* in, const std::uint32_t* keyBits, int end, float* out,
                       RowBracket* bracket, float* bracketOut) {
    RowTotals totals;
    RowBracket counts;
    if (kBracket) counts = *bracket;
    for (int k = 0; k < end; ++k) {
        float xlogx = 0.0f;
        const float raw = read(in, k, &xlogx);
        const float v = keep(raw, keyBits != nullptr ? keyBits[k] : ~0u);
        out[k] = v;
        totals.sum += v;
        totals.maximum = std::max(totals.maximum, v);
        if (kXLogX) totals.xlogx += v > 0.0f ? xlogx : 0.0f;
        if (kBracket) {
            const bool above = v >= counts.hi;
            counts.massAbove += above ? v : 0.0f;
            counts.countAbove += above ? 1 : 0;
            bracketOut[counts.inside] = v;
            counts.inside += v >= counts.lo && !above ? 1 : 0;
        }
    }
    if (kBracket) *bracket = counts;
    return totals;
}

template <typename T>
RowTotals loadAnyPortable(const T* in, const std::uint32_t* keyBits, int end, float* out,
                          bool wantXLogX, RowBracket* bracket, float* bracketOut) {
    if (bracket != nullptr)
        return wantXLogX ? loadPortable<true, true>(in, keyBits, end, out, bracket, bracketOut)
                         : loadPortable<false, true>(in, keyBits, end, out, bracket, bracketOut);
    return wantXLogX ? loadPortable<true, false>(in, keyBits, end, out, nullptr, nullptr)
                     : loadPortable<false, false>(in, keyBits, end, out, nullptr, nullptr);
}

RowTotals loadHalfPortable(const std::uint16_t* in, int, const std::uint32_t* keyBits, int end,
                           float* out, bool wantXLogX, RowBracket* bracket, float* bracketOut) {
    return loadAnyPortable(in, keyBits, end, out, wantXLogX, bracket, bracketOut);
}

RowTotals loadFloatPortable(const float* in, int, const std::uint32_t* keyBits, int end, float* out,
                            bool wantXLogX, RowBracket* bracket, float* bracketOut) {
    return loadAnyPortable(in, keyBits, end, out, wantXLogX, bracket, bracketOut);
}

void addScaledPortable(float* target, const float* source, int count, float scale) {
    for (int i = 0; i < count; ++i) target[i] += source[i] * scale;
}

void addScaledRowsPortable(float* target, int targetStride, const float* source, int sourceStride,
                           int rows, int cols, float scale) {
    for (int r = 0; r < rows; ++r)
        addScaledPortable(target + r * targetStride, source + r * sourceStride, cols, scale);
}

MassCount massAtLeastPortable(const float* row, int padded, float t) {
    MassCount m;
    for (int k = 0; k < padded; ++k) {
        if (row[k] >= t) {
            m.mass += row[k];
            ++m.count;
        }
    }
    return m;
}

int collectPortable(const float* row, int padded, float lo, float hi, float* bracket,
                    double* massAbove, int* countAbove) {
    int n = 0;
    double mass = 0.0;
    int count = 0;
    for (int k = 0; k < padded; ++k) {
        const float v = row[k];
        if (v >= hi) {
            mass += v;
            ++count;
        } else if (v >= lo) {
            bracket[n++] = v;
        }
    }
    *massAbove = mass;
    *countAbove = count;
    return n;
}

BracketCounts bracketPortable(const float* row, int length, float lo, float hi, float* out) {
    BracketCounts b;
    for (int k = 0; k < length; ++k) {
        const float v = row[k];
        const bool aboveLo = v >= lo, aboveHi = v >= hi;
        b.atLo.mass += aboveLo ? v : 0.0f;
        b.atLo.count += aboveLo ? 1 : 0;
        b.atHi.mass += aboveHi ? v : 0.0f;
        b.atHi.count += aboveHi ? 1 : 0;
        out[b.inside] = v;
        b.inside += aboveLo && !aboveHi ? 1 : 0;  // no branch: rows are unpredictable
    }
    return b;
}

int fewest16Portable(float* values, int n, float remaining, float margin, bool* close) {
    std::fill(values + n, values + kFinalBracket, 0.0f);
    std::sort(values, values + kFinalBracket, std::greater<>());
    float sum = 0.0f;
    int below = 0;
    bool near = false;
    for (int i = 0; i < kFinalBracket; ++i) {
        sum += values[i];
        below += sum < remaining ? 1 : 0;
        near = near || std::abs(sum - remaining) < margin;
    }
    *close = near;
    return std::min(n + 1, below + 1);
}

constexpr Kernels kPortable = {loadHalfPortable,      loadFloatPortable,   addScaledPortable,
                               addScaledRowsPortable, massAtLeastPortable, bracketPortable,
                               collectPortable,       fewest16Portable};

// ---- AVX2 + FMA + F16C ----

#ifdef FOVEA_ROW_KERNELS_AVX2
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

// For each 8-bit lane mask, the lanes to move to the front (a compress by permutation).
struct CompressTable {
    alignas(32) std::int32_t lanes[256][8];
    CompressTable() {
        for (int mask = 0; mask < 256; ++mask) {
            int n = 0;
            for (int lane = 0; lane < 8; ++lane) {
                if (mask & (1 << lane)) lanes[mask][n++] = lane;
            }
            for (; n < 8; ++n) lanes[mask][n] = 0;
        }
    }
};

const CompressTable& compressTable() {
    static const CompressTable table;
    return table;
}

// Appends the lanes of v set in `mask` to out + n; returns the new n.
FOVEA_AVX2 inline int compress8(__m256 v, int mask, float* out, int n, const CompressTable& table) {
    const __m256i lanes = _mm256_load_si256(reinterpret_cast<const __m256i*>(table.lanes[mask]));
    _mm256_storeu_ps(out + n, _mm256_permutevar8x32_ps(v, lanes));
    return n + __builtin_popcount(unsigned(mask));
}

#define FOVEA_AVX2_INLINE __attribute__((target("avx2,fma,f16c"), always_inline)) inline

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
        const __m256 atHigh = _mm256_cmp_ps(a, high, _CMP_GE_OQ);
        above = _mm256_add_ps(above, _mm256_and_ps(a, atHigh));
        aboveCount = _mm256_sub_epi32(aboveCount, _mm256_castps_si256(atHigh));
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
    const CompressTable& table = compressTable();
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
    for (; k + 16 <= padded; k += 16) {
        const __m256 a = _mm256_loadu_ps(row + k), b = _mm256_loadu_ps(row + k + 8);
        const __m256 ga = _mm256_cmp_ps(a, threshold, _CMP_GE_OQ);
        const __m256 gb = _mm256_cmp_ps(b, threshold, _CMP_GE_OQ);
        m0 = _mm256_add_ps(m0, _mm256_and_ps(a, ga));
        m1 = _mm256_add_ps(m1, _mm256_and_ps(b, gb));
        c0 = _mm256_sub_epi32(c0, _mm256_castps_si256(ga));
        c1 = _mm256_sub_epi32(c1, _mm256_castps_si256(gb));
    }
    if (k < padded) {
        const __m256 a = _mm256_loadu_ps(row + k);
        const __m256 ga = _mm256_cmp_ps(a, threshold, _CMP_GE_OQ);
        m0 = _mm256_add_ps(m0, _mm256_and_ps(a, ga));
        c0 = _mm256_sub_epi32(c0, _mm256_castps_si256(ga));
    }
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
    const CompressTable& table = compressTable();
    __m256 massLo = _mm256_setzero_ps(), massHi = massLo;
    __m256i countLo = _mm256_setzero_si256(), countHi = countLo;
    int n = 0;
    for (int k = 0; k < length; k += 8) {
        const __m256 v = _mm256_loadu_ps(row + k);
        const __m256 aboveLo = _mm256_cmp_ps(v, low, _CMP_GE_OQ);
        const __m256 aboveHi = _mm256_cmp_ps(v, high, _CMP_GE_OQ);
        massLo = _mm256_add_ps(massLo, _mm256_and_ps(v, aboveLo));
        massHi = _mm256_add_ps(massHi, _mm256_and_ps(v, aboveHi));
        countLo = _mm256_sub_epi32(countLo, _mm256_castps_si256(aboveLo));
        countHi = _mm256_sub_epi32(countHi, _mm256_castps_si256(aboveHi));
        const int mask = _mm256_movemask_ps(_mm256_andnot_ps(aboveHi, aboveLo));
        const __m256i lanes =
            _mm256_load_si256(reinterpret_cast<const __m256i*>(table.lanes[mask]));
        _mm256_storeu_ps(out + n, _mm256_permutevar8x32_ps(v, lanes));
        n += __builtin_popcount(unsigned(mask));
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
FOVEA_AVX2 inline void sort16Descending(__m256& a, __m256& b) {
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

constexpr Kernels kAvx2 = {loadHalfAvx2,    loadFloatAvx2, addScaledAvx2, addScaledRowsAvx2,
                           massAtLeastAvx2, bracketAvx2,   collectAvx2,   fewest16Avx2};

bool cpuHasAvx2() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
}
#else
bool cpuHasAvx2() {
    return false;
}
#endif

const Kernels*& active() {
    static const Kernels* kernels = nullptr;
    return kernels;
}

const Kernels& kernels() {
    const Kernels*& k = active();
    if (k == nullptr) {
        // FOVEA_ROW_KERNELS=portable runs the portable kernels on any CPU (to compare, or to
        // test that path end to end).
        const char* forced = std::getenv("FOVEA_ROW_KERNELS");
        selectRowKernels(forced != nullptr && std::string(forced) == "portable"
                             ? RowKernelSet::Portable
                             : RowKernelSet::Auto);
    }
    return *k;
}

// The fewest of v[0..n) (all > 0) whose sum reaches `need`: quickselect on mass with three-way
// partitions (float16 rows hold many equal values). Reorders v.
int selectForMass(float* v, int n, double need) {
    int lo = 0, hi = n, count = 0;
    while (lo < hi && need > 0.0) {
        if (hi - lo <= 16) {
            std::sort(v + lo, v + hi, std::greater<>());
            for (int i = lo; i < hi && need > 0.0; ++i) {
                need -= v[i];
                ++count;
            }
            return count;
        }
        const float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
        const float pivot =
            std::max(std::min(a, b), std::min(std::max(a, b), c));  // median of three
        int greater = lo, i = lo,
            less = hi;  // [lo, greater) > pivot, [greater, less) == pivot, [less, hi) < pivot
        double upper = 0.0;
        while (i < less) {
            if (v[i] > pivot) {
                std::swap(v[greater], v[i]);
                upper += v[greater++];
                ++i;
            } else if (v[i] < pivot) {
                std::swap(v[i], v[--less]);
            } else {
                ++i;
            }
        }
        if (upper >= need) {
            hi = greater;
            continue;
        }
        count += greater - lo;
        need -= upper;
        const int equal = less - greater;
        if (double(equal) * pivot >= need) return count + int(std::ceil(need / pivot - 1e-12));
        count += equal;
        need -= double(equal) * pivot;
        lo = less;
    }
    return count;
}

std::uint32_t floatBits(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits;
}

float bitsFloat(std::uint32_t bits) {
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

}  // namespace

bool selectRowKernels(RowKernelSet set) {
    const bool avx2 = cpuHasAvx2();
#ifdef FOVEA_ROW_KERNELS_AVX2
    if (set == RowKernelSet::Avx2 && !avx2) return false;
    active() = set == RowKernelSet::Portable || !avx2 ? &kPortable : &kAvx2;
#else
    if (set == RowKernelSet::Avx2) return false;
    (void)avx2;
    active() = &kPortable;
#endif
    return true;
}

bool rowKernelsVectorised() {
    return &kernels() != &kPortable;
}

float logPositive(float x) {
    const std::uint32_t bits = floatBits(x);
    const float exponent = float(int(bits >> 23) - 127);
    const float f = bitsFloat((bits & 0x7FFFFFu) | 0x3F800000u) - 1.0f;
    float p = kLog2P[5];
    for (int i = 4; i >= 0; --i) p = p * f + kLog2P[i];
    return (f * p + exponent) * kLn2;
}

namespace {

// The guessed bracket for the row about to be read, in the units of the previous row; false when
// there is no guess yet.
bool prepareSweep(MassScratch* scratch, int end) {
    if (scratch == nullptr) return false;
    scratch->swept.used = false;
    if (!(scratch->guess > 0.0f) || !(scratch->lastTotal > 0.0f)) return false;
    const std::size_t room = std::size_t(paddedLength(end) + 16);
    if (scratch->bracket.size() < room) scratch->bracket.resize(room);
    scratch->swept.massAbove = 0.0f;
    scratch->swept.countAbove = 0;
    scratch->swept.inside = 0;
    const float centre = scratch->guess * scratch->lastTotal, factor = 1.0f + scratch->width;
    scratch->swept.lo = centre / factor;
    scratch->swept.hi = centre * factor;
    scratch->swept.used = scratch->swept.lo > 0.0f && scratch->swept.lo < scratch->swept.hi;
    return scratch->swept.used;
}

}  // namespace

RowTotals loadRow(const std::uint16_t* halfBits, std::size_t readable, const std::uint32_t* keyBits,
                  int end, float* out, bool wantXLogX, MassScratch* sparsity) {
    const int room = int(std::min<std::size_t>(readable, std::size_t(end) + 8));
    if (prepareSweep(sparsity, end))
        return kernels().loadHalf(halfBits, room, keyBits, end, out, wantXLogX, &sparsity->swept,
                                  sparsity->bracket.data());
    return kernels().loadHalf(halfBits, room, keyBits, end, out, wantXLogX, nullptr, nullptr);
}

RowTotals loadRow(const float* values, std::size_t readable, const std::uint32_t* keyBits, int end,
                  float* out, bool wantXLogX, MassScratch* sparsity) {
    const int room = int(std::min<std::size_t>(readable, std::size_t(end) + 8));
    if (prepareSweep(sparsity, end))
        return kernels().loadFloat(values, room, keyBits, end, out, wantXLogX, &sparsity->swept,
                                   sparsity->bracket.data());
    return kernels().loadFloat(values, room, keyBits, end, out, wantXLogX, nullptr, nullptr);
}

void addScaled(float* target, const float* source, int count, float scale) {
    kernels().addScaled(target, source, count, scale);
}

void addScaledRows(float* target, int targetStride, const float* source, int sourceStride, int rows,
                   int cols, float scale) {
    kernels().addScaledRows(target, targetStride, source, sourceStride, rows, cols, scale);
}

namespace {

// The fewest of values[0, n) (n <= kFinalBracket, in any order) whose sum reaches `remaining`;
// `close` when a running sum is within `margin` of it (float sums cannot decide).
int fewestReaching(const Kernels& k, float* values, int n, double remaining, double margin,
                   bool* close, float* crossing) {
    const int fewest = k.fewest16(values, n, float(remaining), float(margin), close);
    if (fewest > n) *close = true;  // not reached: let the exact resolution decide
    *crossing = values[std::max(0, std::min(n, fewest) - 1)];
    return std::min(n, fewest);
}

}  // namespace

int keysForMass(const float* row, int end, double need, float maximum, float total,
                MassScratch& scratch) {
    const bool swept = scratch.swept.used;
    scratch.swept.used = false;
    if (end <= 0 || !(total > 0.0f) || !(need > 0.0)) return 0;
    scratch.lastTotal = total;
    const Kernels& k = kernels();
    const int padded = (end + 7) / 8 * 8;
    const double margin = kMassMargin * total;
    if (scratch.bracket.size() < std::size_t(padded + 16))
        scratch.bracket.resize(std::size_t(padded + 16));
    if (scratch.last.size() < std::size_t(padded + 16))
        scratch.last.resize(std::size_t(padded + 16));
    float* copy = scratch.bracket.data();
    // Most rows: the bracket guessed from the previous row holds, with few values inside, and
    // they complete the mass (they fall short when the crossing lies below the guess; the
    // general path then takes over).
    if (swept && scratch.swept.inside <= kFinalBracket &&
        double(scratch.swept.massAbove) < need - margin) {
        const RowBracket& b = scratch.swept;
        bool close = false;
        const int fewest =
            k.fewest16(copy, b.inside, float(need - b.massAbove), float(margin), &close);
        if (!close && fewest <= b.inside) {
            scratch.guess = copy[fewest - 1] / total;
            if (b.inside < kFinalBracket / 4) scratch.width = std::min(4.0f, scratch.width * 1.25f);
            return b.countAbove + fewest;
        }
    }
    if (maximum >= 0.0f && double(maximum) >= need) {
        scratch.guess = maximum / total;
        return 1;
    }
    // Invariants: the values >= lo reach `need`, the values >= hi do not (each decided with the
    // margin over the float error of a pass's sum); countLo / countHi values are >= lo / hi.
    const double slack = double(total) - need;
    float lo = slack > 1e-4 * total ? std::max(FLT_MIN, float(0.5 * slack / end))
                                    : std::numeric_limits<float>::denorm_min();
    // No value exceeds the total: without the maximum (a row counted with a bracket), it bounds.
    float hi = std::nextafter(maximum >= 0.0f ? maximum : total, FLT_MAX);
    double massLo = total, massHi = 0.0;
    int countLo = end, countHi = 0;
    // Passes run over the whole row, then over a copy of the values in [lo, hi) (their mass and
    // count above a threshold are then offset by what lay above hi when they were copied).
    const float* values = row;
    int length = padded;
    double baseMass = 0.0;
    int baseCount = 0;
    bool compacted = false;
    auto useCopy = [&](int n) {
        std::fill(copy + n, copy + (n + 7) / 8 * 8 + 8, 0.0f);
        values = copy;
        length = (n + 7) / 8 * 8;
        baseMass = massHi;
        baseCount = countHi;
        compacted = true;
    };

    // First a bracket around the previous row's crossing: counted while the row was read
    // (loadRow with this scratch), or here in one pass that also copies the values inside it.
    // Where the guess misses, what it learnt still narrows the search.
    float gLo = 0.0f, gHi = 0.0f;
    RowBracket b;
    if (swept) {
        b = scratch.swept;
        gLo = b.lo;
        gHi = b.hi;
    } else if (scratch.guess > 0.0f) {
        gLo = scratch.guess * total / (1.0f + scratch.width);
        gHi = scratch.guess * total * (1.0f + scratch.width);
        if (gLo > 0.0f && gLo < gHi) {
            const BracketCounts counted = k.bracket(row, padded, gLo, gHi, copy);
            b.massAbove = counted.atHi.mass;
            b.countAbove = counted.atHi.count;
            b.inside = counted.inside;
        }
    }
    if (gLo > 0.0f && gLo < gHi) {
        // The copied values' mass, 8 at a time (a running scalar sum is a chain of dependent adds).
        std::fill(copy + b.inside, copy + (b.inside + 7) / 8 * 8 + 8, 0.0f);
        const float insideMass =
            k.massAtLeast(copy, (b.inside + 7) / 8 * 8, std::numeric_limits<float>::denorm_min())
                .mass;
        const double atLo = double(b.massAbove) + insideMass;
        const bool loHolds = atLo >= need + margin, hiHolds = b.massAbove < need - margin;
        if (loHolds && hiHolds) {
            lo = gLo;
            massLo = atLo;
            countLo = b.countAbove + b.inside;
            hi = gHi;
            massHi = b.massAbove;
            countHi = b.countAbove;
            useCopy(b.inside);
            if (b.inside > kFinalBracket)
                scratch.width *= 0.5f;
            else if (b.inside < kFinalBracket / 4)
                scratch.width *= 1.25f;
        } else {
            int side = 0;  // -1: the crossing lies below the guess, +1: above it
            if (atLo < need - margin && gLo > lo) {
                hi = gLo;
                massHi = atLo;
                countHi = b.countAbove + b.inside;
                side = -1;
            } else if (!hiHolds && b.massAbove >= need + margin && gHi < hi) {
                lo = gHi;
                massLo = b.massAbove;
                countLo = b.countAbove;
                side = +1;
            }
            scratch.width *= 2.0f;
            // Search outward from the missed bracket, a wider bracket per pass, each pass counting
            // and copying like the first: the crossing is usually near.
            float factor = (1.0f + scratch.width) * (1.0f + scratch.width);
            for (int step = 0; side != 0 && step < 2; ++step, factor *= factor) {
                const float eLo = side < 0 ? std::max(lo, hi / factor) : lo;
                const float eHi = side < 0 ? hi : std::min(hi, lo * factor);
                if (!(eLo < eHi) || (side < 0 && eLo == lo) || (side > 0 && eHi == hi)) break;
                const BracketCounts c = k.bracket(row, padded, eLo, eHi, copy);
                const bool loOk = c.atLo.mass >= need + margin;
                const bool hiOk = c.atHi.mass < need - margin;
                if (loOk && hiOk) {
                    lo = eLo;
                    massLo = c.atLo.mass;
                    countLo = c.atLo.count;
                    hi = eHi;
                    massHi = c.atHi.mass;
                    countHi = c.atHi.count;
                    useCopy(c.inside);
                    break;
                }
                if (side < 0 && c.atLo.mass < need - margin) {
                    hi = eLo;
                    massHi = c.atLo.mass;
                    countHi = c.atLo.count;
                } else if (side > 0 && c.atHi.mass >= need + margin) {
                    lo = eHi;
                    massLo = c.atHi.mass;
                    countLo = c.atHi.count;
                } else {
                    break;  // too close to call: the search below decides
                }
            }
        }
        scratch.width = std::clamp(scratch.width, 1.0f / 512, 4.0f);
    }

    bool settled = false;
    for (int pass = 0; pass < kMaxPasses; ++pass) {
        const std::uint32_t loBits = floatBits(lo), hiBits = floatBits(hi);
        if (countLo - countHi <= kFinalBracket || hiBits - loBits < 2) {
            settled = true;
            break;
        }
        if (!compacted && (countLo - countHi <= kCompactBelow || pass == kFullPasses))
            useCopy(k.bracket(row, padded, lo, hi, copy).inside);
        // Alternate a step that interpolates the mass linearly between the bounds with one that
        // halves the bracket on a log scale, so that the search never does worse than bisection.
        float mid;
        if (pass % 2 == 0) {
            const double t = (massLo - need) / std::max(1e-30, massLo - massHi);
            mid = float(double(lo) + (double(hi) - double(lo)) * std::clamp(t, 0.05, 0.95));
        } else {
            mid = bitsFloat(loBits + (hiBits - loBits) / 2);
        }
        if (!(mid > lo && mid < hi)) mid = bitsFloat(loBits + (hiBits - loBits) / 2);
        const MassCount m = k.massAtLeast(values, length, mid);
        const double mass = baseMass + m.mass;
        const int count = baseCount + m.count;
        if (mass >= need + margin) {
            lo = mid;
            massLo = mass;
            countLo = count;
        } else if (mass < need - margin) {
            hi = mid;
            massHi = mass;
            countHi = count;
        } else {
            break;  // too close to call in float arithmetic
        }
    }
    if (settled) {
        // Every value between the bounds equals lo: as many copies of it as the remaining mass
        // needs. Or few values are left between them: the largest complete the mass. The mass
        // above hi is a float sum, so a count is kept only when no running sum is within the
        // margin of the need.
        if (floatBits(hi) - floatBits(lo) < 2) {
            const double copies = (need - massHi) / double(lo);
            const double whole = std::ceil(copies);
            if (whole - copies > margin / lo && copies - (whole - 1.0) > margin / lo) {
                scratch.guess = lo / total;
                return countHi + int(whole);
            }
        } else {
            float* last = scratch.last.data();
            const int n = k.bracket(values, length, lo, hi, last).inside;
            bool close = false;
            float crossing = 0.0f;
            const int fewest = fewestReaching(k, last, std::min(n, kFinalBracket), need - massHi,
                                              margin, &close, &crossing);
            if (!close && n <= kFinalBracket) {
                scratch.guess = crossing / total;
                return countHi + fewest;
            }
        }
    }
    // Exact resolution: the mass above hi in double, the values between the bounds selected.
    double above = 0.0;
    int aboveCount = 0;
    const int inside = k.collect(row, padded, lo, hi, scratch.bracket.data(), &above, &aboveCount);
    scratch.guess = 0.5f * (lo + hi) / total;
    return aboveCount + selectForMass(scratch.bracket.data(), inside, need - above);
}

}  // namespace fovea::heads_detail
