// Internal to core/heads/row_kernels*.cpp: the kernel table both implementations fill (portable
// in row_kernels.cpp, AVX2 in row_kernels_avx2.cpp) and the constants they share.
#pragma once

#include "core/heads/row_kernels.h"

#include <cstdint>

namespace fovea::heads_detail::row_impl {

// The threshold search starts from a bracket around the previous row's crossing (rows of one
// head are alike); it copies the values between its bounds out of the row once this few are
// left (or after kFullPasses passes over the whole row), searches the copy, and sorts the last
// kFinalBracket values; it gives up to the exact resolution after kMaxPasses.
constexpr int kCompactBelow = 48;
constexpr int kFullPasses = 3;
constexpr int kMaxPasses = 40;
constexpr int kFinalBracket = 16;
// A bracket guessed from the previous row that holds with at most this many values inside is
// finished by sorting them all (fewest32).
constexpr int kWideBracket = 32;
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
    // The same for n <= 32 (the buffer has 32 floats of room).
    int (*fewest32)(float*, int, float, float, bool*);
};

// The AVX2 + FMA + F16C kernels, or null where the build or the CPU has none.
const Kernels* avx2Kernels();

}  // namespace fovea::heads_detail::row_impl
