#include "core/heads/row_kernels.h"

#include "core/io/safetensors.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FOVEA_ROW_KERNELS_AVX2 1
#include <immintrin.h>
#endif

namespace fovea::heads_detail {

namespace {

// ln(1 + f) = f + f^2 P(f) on [sqrt(1/2) - 1, sqrt(2) - 1): P fitted by iteratively reweighted
// least squares to the minimax error (6.8e-8 in float32 arithmetic).
constexpr float kLogP[7] = {-0.500005841f, 0.333352596f, -0.249614850f, 0.198883399f,
                            -0.173258245f, 0.163350865f, -0.100344345f};
constexpr float kSqrt2 = 1.41421356f;
constexpr float kLn2 = 0.693147181f;

// Stop the threshold search when this few values lie between its bounds; at most this many
// searching passes over a row.
constexpr int kSmallBracket = 16;
constexpr int kMaxPasses = 12;
// A pass's mass is a float sum; closer than this to `need`, the search stops and the exact
// (double) resolution decides.
constexpr double kMassMargin = 2e-5;

struct MassCount {
    float mass = 0.0f;
    int count = 0;
};

// The operations with an AVX2 twin.
struct Kernels {
    RowTotals (*loadHalf)(const std::uint16_t*, const std::uint32_t*, int, float*, bool);
    RowTotals (*loadFloat)(const float*, const std::uint32_t*, int, float*, bool);
    ScaledRow (*scale)(float*, int, float, float*);
    void (*add)(float*, const float*, int);
    MassCount (*massAtLeast)(const float*, int, float);
    // Values in [lo, hi) into `bracket` (returns how many); the mass of values >= hi in double
    // and their count through the last two arguments.
    int (*collect)(const float*, int, float, float, float*, double*, int*);
};

// ---- portable ----

const float* halfValues() {
    static const std::vector<float> table = [] {
        std::vector<float> t(65536);
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = halfToFloat(std::uint16_t(i));
        return t;
    }();
    return table.data();
}

inline float keep(float v, std::uint32_t bits) {
    return bits != 0 && v > 0.0f ? v : 0.0f;
}

RowTotals loadHalfPortable(const std::uint16_t* in, const std::uint32_t* keyBits, int end,
                           float* out, bool wantXLogX) {
    const float* table = halfValues();
    RowTotals totals;
    for (int k = 0; k < end; ++k) {
        const float v = keep(table[in[k]], keyBits[k]);
        out[k] = v;
        totals.sum += v;
        if (wantXLogX && v > 0.0f) totals.xlogx += v * logPositive(v);
    }
    return totals;
}

RowTotals loadFloatPortable(const float* in, const std::uint32_t* keyBits, int end, float* out,
                            bool wantXLogX) {
    RowTotals totals;
    for (int k = 0; k < end; ++k) {
        const float v = keep(in[k], keyBits[k]);
        out[k] = v;
        totals.sum += v;
        if (wantXLogX && v > 0.0f) totals.xlogx += v * logPositive(v);
    }
    return totals;
}

ScaledRow scalePortable(float* row, int end, float scale, float* columnMass) {
    ScaledRow s;
    const int padded = (end + 7) / 8 * 8;
    for (int k = 0; k < padded; ++k) {
        const float v = row[k] * scale;
        row[k] = v;
        s.maximum = std::max(s.maximum, v);
        s.total += v;
        if (columnMass != nullptr) columnMass[k] += v;
    }
    return s;
}

void addPortable(float* target, const float* source, int count) {
    for (int i = 0; i < count; ++i) target[i] += source[i];
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

constexpr Kernels kPortable = {loadHalfPortable, loadFloatPortable,   scalePortable,
                               addPortable,      massAtLeastPortable, collectPortable};

// ---- AVX2 + FMA + F16C ----

#ifdef FOVEA_ROW_KERNELS_AVX2
#define FOVEA_AVX2 __attribute__((target("avx2,fma,f16c")))

FOVEA_AVX2 inline __m256 logPositive8(__m256 x) {
    const __m256i bits = _mm256_castps_si256(x);
    __m256i exponent = _mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFF)), _mm256_set1_epi32(0x3F800000)));
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(kSqrt2), _CMP_GT_OQ);
    m = _mm256_mul_ps(m, _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_set1_ps(0.5f), big));
    exponent = _mm256_sub_epi32(exponent, _mm256_castps_si256(big));  // big lanes are -1
    const __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 p = _mm256_set1_ps(kLogP[6]);
    for (int i = 5; i >= 0; --i) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kLogP[i]));
    const __m256 lnMantissa = _mm256_fmadd_ps(_mm256_mul_ps(f, f), p, f);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(exponent), _mm256_set1_ps(kLn2), lnMantissa);
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
FOVEA_AVX2 inline __m256 keep8(__m256 v, const std::uint32_t* keyBits) {
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
inline float load1(const std::uint16_t* in) {
    return halfToFloat(*in);
}
inline float load1(const float* in) {
    return *in;
}

template <bool kXLogX, typename T>
FOVEA_AVX2 RowTotals loadAvx2(const T* in, const std::uint32_t* keyBits, int end, float* out) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, x0 = s0, x1 = s0;
    int k = 0;
    for (; k + 16 <= end; k += 16) {
        const __m256 a = keep8(load8(in + k), keyBits + k);
        const __m256 b = keep8(load8(in + k + 8), keyBits + k + 8);
        _mm256_storeu_ps(out + k, a);
        _mm256_storeu_ps(out + k + 8, b);
        s0 = _mm256_add_ps(s0, a);
        s1 = _mm256_add_ps(s1, b);
        if (kXLogX) {
            x0 = _mm256_fmadd_ps(a, logPositive8(a), x0);
            x1 = _mm256_fmadd_ps(b, logPositive8(b), x1);
        }
    }
    if (k + 8 <= end) {
        const __m256 a = keep8(load8(in + k), keyBits + k);
        _mm256_storeu_ps(out + k, a);
        s0 = _mm256_add_ps(s0, a);
        if (kXLogX) x0 = _mm256_fmadd_ps(a, logPositive8(a), x0);
        k += 8;
    }
    RowTotals totals;
    totals.sum = sum8(_mm256_add_ps(s0, s1));
    totals.xlogx = kXLogX ? sum8(_mm256_add_ps(x0, x1)) : 0.0f;
    for (; k < end; ++k) {
        const float v = keep(load1(in + k), keyBits[k]);
        out[k] = v;
        totals.sum += v;
        if (kXLogX && v > 0.0f) totals.xlogx += v * logPositive(v);
    }
    return totals;
}

FOVEA_AVX2 RowTotals loadHalfAvx2(const std::uint16_t* in, const std::uint32_t* keyBits, int end,
                                  float* out, bool wantXLogX) {
    return wantXLogX ? loadAvx2<true>(in, keyBits, end, out)
                     : loadAvx2<false>(in, keyBits, end, out);
}

FOVEA_AVX2 RowTotals loadFloatAvx2(const float* in, const std::uint32_t* keyBits, int end,
                                   float* out, bool wantXLogX) {
    return wantXLogX ? loadAvx2<true>(in, keyBits, end, out)
                     : loadAvx2<false>(in, keyBits, end, out);
}

FOVEA_AVX2 ScaledRow scaleAvx2(float* row, int end, float scale, float* columnMass) {
    const int padded = (end + 7) / 8 * 8;
    const __m256 factor = _mm256_set1_ps(scale);
    __m256 maximum = _mm256_setzero_ps(), total = maximum;
    for (int k = 0; k < padded; k += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + k), factor);
        _mm256_storeu_ps(row + k, v);
        maximum = _mm256_max_ps(maximum, v);
        total = _mm256_add_ps(total, v);
        if (columnMass != nullptr)
            _mm256_storeu_ps(columnMass + k, _mm256_add_ps(_mm256_loadu_ps(columnMass + k), v));
    }
    return {max8(maximum), sum8(total)};
}

FOVEA_AVX2 void addAvx2(float* target, const float* source, int count) {
    int i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(target + i,
                         _mm256_add_ps(_mm256_loadu_ps(target + i), _mm256_loadu_ps(source + i)));
    if (i < count) {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 live =
            _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(count - i), lanes));
        _mm256_storeu_ps(target + i,
                         _mm256_add_ps(_mm256_loadu_ps(target + i),
                                       _mm256_and_ps(_mm256_loadu_ps(source + i), live)));
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

constexpr Kernels kAvx2 = {loadHalfAvx2, loadFloatAvx2,   scaleAvx2,
                           addAvx2,      massAtLeastAvx2, collectAvx2};

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
    if (k == nullptr) selectRowKernels(RowKernelSet::Auto);
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
    std::uint32_t bits = floatBits(x);
    int exponent = int(bits >> 23) - 127;
    float m = bitsFloat((bits & 0x7FFFFFu) | 0x3F800000u);
    if (m > kSqrt2) {
        m *= 0.5f;
        ++exponent;
    }
    const float f = m - 1.0f;
    float p = kLogP[6];
    for (int i = 5; i >= 0; --i) p = p * f + kLogP[i];
    return float(exponent) * kLn2 + (f + f * f * p);
}

RowTotals loadRow(const std::uint16_t* halfBits, const std::uint32_t* keyBits, int end, float* out,
                  bool wantXLogX) {
    return kernels().loadHalf(halfBits, keyBits, end, out, wantXLogX);
}

RowTotals loadRow(const float* values, const std::uint32_t* keyBits, int end, float* out,
                  bool wantXLogX) {
    return kernels().loadFloat(values, keyBits, end, out, wantXLogX);
}

ScaledRow scaleRow(float* row, int end, float scale, float* columnMass) {
    return kernels().scale(row, end, scale, columnMass);
}

void addRow(float* target, const float* source, int count) {
    kernels().add(target, source, count);
}

int keysForMass(const float* row, int end, double need, ScaledRow stats, MassScratch& scratch) {
    if (end <= 0 || !(stats.total > 0.0f) || !(need > 0.0)) return 0;
    if (double(stats.maximum) >= need) return 1;
    const Kernels& k = kernels();
    const int padded = (end + 7) / 8 * 8;
    // Invariants: the values >= lo reach `need`; the values >= hi do not.
    const double slack = double(stats.total) - need;
    float lo = slack > 1e-4 ? std::max(FLT_MIN, float(0.5 * slack / end))
                            : std::numeric_limits<float>::denorm_min();
    float hi = std::nextafter(stats.maximum, FLT_MAX);
    double massLo = stats.total, massHi = 0.0;
    int countLo = end, countHi = 0;
    for (int pass = 0; pass < kMaxPasses && countLo - countHi > kSmallBracket; ++pass) {
        const std::uint32_t loBits = floatBits(lo), hiBits = floatBits(hi);
        if (hiBits - loBits < 2) break;
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
        const MassCount m = k.massAtLeast(row, padded, mid);
        if (m.mass >= need + kMassMargin) {
            lo = mid;
            massLo = m.mass;
            countLo = m.count;
        } else if (m.mass < need - kMassMargin) {
            hi = mid;
            massHi = m.mass;
            countHi = m.count;
        } else {
            break;  // too close to call in float arithmetic
        }
    }
    scratch.bracket.resize(std::size_t(padded));
    double above = 0.0;
    int aboveCount = 0;
    const int inside = k.collect(row, padded, lo, hi, scratch.bracket.data(), &above, &aboveCount);
    return aboveCount + selectForMass(scratch.bracket.data(), inside, need - above);
}

}  // namespace fovea::heads_detail
