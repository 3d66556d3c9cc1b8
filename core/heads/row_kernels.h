// Internal to core/heads: the per-row arithmetic of the head features, in two implementations
// that give the same answers: portable C++ and AVX2 (+ FMA, F16C) on x86-64 CPUs that have it,
// chosen once at run time. Every feature pass reads each attention value a handful of times, so
// these loops are where the head atlas spends its time (fovea bench heads).
//
// Buffers: rows and accumulators handed to these functions are padded to a multiple of 8 floats
// plus 8 (kRowPadding), the padding holding zeros, so that the vector loops never need a tail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fovea::heads_detail {

enum class RowKernelSet { Auto, Portable, Avx2 };

// Chooses the implementation (Auto: AVX2 when the CPU has AVX2, FMA and F16C; the environment
// variable FOVEA_ROW_KERNELS=portable makes the first choice portable). Returns false, leaving the
// choice unchanged, when Avx2 is asked for on a CPU or build without it.
bool selectRowKernels(RowKernelSet set);
bool rowKernelsVectorised();

constexpr int kRowPadding = 8;
inline int paddedLength(int n) {
    return (n + 7) / 8 * 8 + kRowPadding;
}

struct RowTotals {
    float sum = 0.0f;      // of the kept values
    float xlogx = 0.0f;    // sum of v ln v over the kept values (when asked for)
    float maximum = 0.0f;  // largest kept value (-1: not found, when a bracket was counted)
};

struct MassScratch;

// Reads keys [0, end) of one attention row (float16 bits or float32; `readable` values may be
// read from it, at least end), keeping a value only where keyBits (padded) is all ones and the
// value is > 0; masked keys, negative and NaN values read as 0. Writes out[0, end) and, when more
// than `end` values are readable, possibly zeros up to the next multiple of 8 (out needs room).
// With `sparsity` (the scratch keysForMass will use for this row), the same sweep also counts the
// bracket keysForMass guesses from the previous row, so that most rows need no pass of their own.
RowTotals loadRow(const std::uint16_t* halfBits, std::size_t readable, const std::uint32_t* keyBits,
                  int end, float* out, bool wantXLogX, MassScratch* sparsity = nullptr);
RowTotals loadRow(const float* values, std::size_t readable, const std::uint32_t* keyBits, int end,
                  float* out, bool wantXLogX, MassScratch* sparsity = nullptr);

// target[i] += source[i] * scale for i < count. Both may be read and written up to the next
// multiple of 8 past count (the extra lanes add 0), so both need that much room.
void addScaled(float* target, const float* source, int count, float scale);
// The same for `rows` rows of `cols` values, row r at target + r targetStride and
// source + r sourceStride.
void addScaledRows(float* target, int targetStride, const float* source, int sourceStride, int rows,
                   int cols, float scale);

// Bounds counted while a row is read: the mass and count at or above hi, and how many values in
// [lo, hi) were copied out.
struct RowBracket {
    float lo = 0.0f, hi = 0.0f;
    float massAbove = 0.0f;
    int countAbove = 0;
    int inside = 0;
    bool used = false;  // set by loadRow, consumed by the next keysForMass
};

struct MassScratch {
    std::vector<float> bracket, last;
    float guess = 0.0f;          // the previous row's crossing value / its total
    float width = 1.0f / 16.0f;  // the guessed bracket is guess / (1 + width) .. guess (1 + width)
    float lastTotal = 0.0f;      // the previous row's total
    RowBracket swept;
    // Rows finished from the bracket counted while they were read, with at most 16 values inside
    // it (sorted in registers) or 17 to 32 (sorted too); the others were searched. For tests.
    long finishedNarrow = 0, finishedWide = 0;
};

// Keys needed for `need` of a row's mass: the fewest values of row[0, end) (all >= 0, the padded
// row, summing to `total` with the given maximum) whose sum reaches need (FlexPrefill's sparsity,
// with need = 0.9 total; a negative maximum: not known, the total then bounds the values).
// Exact: a threshold search narrows the values around the crossing, starting from a bracket
// around the previous row's crossing (kept in the scratch: rows of one head are alike) and
// widening it on the side it learnt when it misses; the last few are sorted. Where float sums are
// too close to call, the mass above the bracket is summed in double and the values inside it
// selected, against need scaled to the row's total summed in double (so the count is exact for
// the share need / total of the row's exact total, not of the float `total`).
int keysForMass(const float* row, int end, double need, float maximum, float total,
                MassScratch& scratch);

// log2(1 + f) = f P(f) on [0, 1), P of degree 5 fitted by iteratively reweighted least squares
// to the minimax error (2.2e-6, i.e. 1.5e-6 in ln, in float32 arithmetic). No range reduction,
// and base 2 so that the exponent adds without a multiply: an entropy needs sum a log2 a, and
// the vector pipes, not the accuracy, are what limit it.
constexpr float kLog2P[6] = {1.442553163f,  -0.718282282f, 0.458272517f,
                             -0.279541939f, 0.123455286f,  -0.026458861f};
constexpr float kLn2 = 0.693147181f;

// ln x for x > 0 (normal floats), within 1.6e-6 plus float rounding: the exponent from the bits
// and log2(1 + f) for the mantissa 1 + f, f in [0, 1), by kLog2P. Inline: the feature pass takes
// one per row.
inline float logPositive(float x) {
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const float exponent = float(int(bits >> 23) - 127);
    const std::uint32_t mantissaBits = (bits & 0x7FFFFFu) | 0x3F800000u;
    float mantissa;
    std::memcpy(&mantissa, &mantissaBits, sizeof mantissa);
    const float f = mantissa - 1.0f;
    float p = kLog2P[5];
    for (int i = 4; i >= 0; --i) p = p * f + kLog2P[i];
    return (f * p + exponent) * kLn2;
}

}  // namespace fovea::heads_detail
