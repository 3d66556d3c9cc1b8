#include "core/heads/row_kernels.h"

#include "core/heads/row_kernels_impl.h"

#include "core/io/safetensors.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>

namespace fovea::heads_detail {

namespace {

using namespace row_impl;

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

template <int kRoom>
int fewestPortable(float* values, int n, float remaining, float margin, bool* close) {
    std::fill(values + n, values + kRoom, 0.0f);
    std::sort(values, values + kRoom, std::greater<>());
    float sum = 0.0f;
    int below = 0;
    bool near = false;
    for (int i = 0; i < kRoom; ++i) {
        sum += values[i];
        below += sum < remaining ? 1 : 0;
        near = near || std::abs(sum - remaining) < margin;
    }
    *close = near;
    return std::min(n + 1, below + 1);
}

constexpr Kernels kPortable = {loadHalfPortable,
                               loadFloatPortable,
                               addScaledPortable,
                               addScaledRowsPortable,
                               massAtLeastPortable,
                               bracketPortable,
                               collectPortable,
                               fewestPortable<kFinalBracket>,
                               fewestPortable<kWideBracket>};

// The kernels in use: chosen once, thread-safely, on first use (the feature pass calls in from
// several workers at once); selectRowKernels may change them later.
std::atomic<const Kernels*>& active() {
    static std::atomic<const Kernels*> kernels{[] {
        // FOVEA_ROW_KERNELS=portable runs the portable kernels on any CPU (to compare, or to
        // test that path end to end).
        const char* forced = std::getenv("FOVEA_ROW_KERNELS");
        const Kernels* avx2 = row_impl::avx2Kernels();
        return forced != nullptr && std::string(forced) == "portable"
                   ? &kPortable
                   : (avx2 != nullptr ? avx2 : &kPortable);
    }()};
    return kernels;
}

const Kernels& kernels() {
    return *active().load(std::memory_order_acquire);
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
    const Kernels* avx2 = row_impl::avx2Kernels();
    if (set == RowKernelSet::Avx2 && avx2 == nullptr) return false;
    active().store(set == RowKernelSet::Portable || avx2 == nullptr ? &kPortable : avx2,
                   std::memory_order_release);
    return true;
}

bool rowKernelsVectorised() {
    return &kernels() != &kPortable;
}

namespace {

// Floats of room a bracket copy needs: every value of a padded row plus the 8 a lane compress
// may write past the last one, and at least the 32 that fewest32 reads.
std::size_t bracketRoom(int end) {
    return std::size_t(std::max(paddedLength(end) + 16, kWideBracket + 8));
}

// The guessed bracket for the row about to be read, in the units of the previous row; false when
// there is no guess yet.
bool prepareSweep(MassScratch* scratch, int end) {
    if (scratch == nullptr) return false;
    scratch->swept.used = false;
    if (!(scratch->guess > 0.0f) || !(scratch->lastTotal > 0.0f)) return false;
    const std::size_t room = bracketRoom(end);
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
    const std::size_t room = bracketRoom(end);
    if (scratch.bracket.size() < room) scratch.bracket.resize(room);
    if (scratch.last.size() < room) scratch.last.resize(room);
    float* copy = scratch.bracket.data();
    // Most rows: the bracket guessed from the previous row holds, with few values inside (16 or
    // 32 are sorted at once), and they complete the mass (they fall short when the crossing lies
    // below the guess; the general path then takes over).
    if (swept && scratch.swept.inside <= kWideBracket &&
        double(scratch.swept.massAbove) < need - margin) {
        const RowBracket& b = scratch.swept;
        const bool narrow = b.inside <= kFinalBracket;
        bool close = false;
        const int fewest = (narrow ? k.fewest16 : k.fewest32)(
            copy, b.inside, float(need - b.massAbove), float(margin), &close);
        if (!close && fewest <= b.inside) {
            scratch.guess = copy[fewest - 1] / total;
            if (narrow) {
                if (b.inside < kFinalBracket / 4)
                    scratch.width = std::min(4.0f, scratch.width * 1.25f);
                ++scratch.finishedNarrow;
            } else {
                scratch.width = std::max(1.0f / 512, scratch.width * 0.5f);  // fewer next time
                ++scratch.finishedWide;
            }
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
    // The need scales to the row's total summed in double: `total` is a float sum, and a running
    // sum this close to the need can fall between the two (1 row in 400,000 of the heads bench).
    double exactTotal = 0.0;
    for (int i = 0; i < end; ++i) exactTotal += row[i];
    need *= exactTotal / double(total);
    double above = 0.0;
    int aboveCount = 0;
    float* selected = scratch.bracket.data();
    int inside = k.collect(row, padded, lo, hi, selected, &above, &aboveCount);
    double insideMass = 0.0;
    for (int i = 0; i < inside; ++i) insideMass += selected[i];
    if (!(need - above > 0.0 && need - above <= insideMass)) {
        // The rescaled need left the bracket: select over every value of the row.
        inside = k.collect(row, padded, std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::infinity(), selected, &above, &aboveCount);
    }
    scratch.guess = 0.5f * (lo + hi) / total;
    return aboveCount + selectForMass(selected, inside, need - above);
}

}  // namespace fovea::heads_detail
