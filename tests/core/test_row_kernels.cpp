// The head features' row kernels, portable and AVX2, against brute force in double: the log
// polynomial against std::log, the keys-for-90%-mass count against a full sort on adversarial
// rows (ties at the crossing, a dominant key, zeros, every length up to 40), and the features of
// whole float16 stacks (entropy, sparsity, shares, distance) against a direct computation.
#include "core/heads/head_features.h"
#include "core/heads/planted_heads.h"
#include "core/heads/row_kernels.h"
#include "core/io/safetensors.h"
#include "core/model/attention_stack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fovea;
using heads_detail::RowKernelSet;

// The kernel sets this machine can run (the portable one always; AVX2 where the CPU has it).
std::vector<RowKernelSet> kernelSets() {
    std::vector<RowKernelSet> sets = {RowKernelSet::Portable};
    if (heads_detail::selectRowKernels(RowKernelSet::Avx2)) sets.push_back(RowKernelSet::Avx2);
    heads_detail::selectRowKernels(RowKernelSet::Auto);
    return sets;
}

const char* setName(RowKernelSet set) {
    return set == RowKernelSet::Avx2 ? "avx2" : "portable";
}

struct RestoreKernels {
    ~RestoreKernels() { heads_detail::selectRowKernels(RowKernelSet::Auto); }
};

// Fewest values whose sum reaches need, by a full sort in double. (Shares must be exact in double:
// rows of a few levels put running sums within 1e-9 of the need, where float shares would
// decide by their rounding.)
int keysBySort(std::vector<double> row, double need) {
    std::sort(row.begin(), row.end(), std::greater<>());
    double cumulative = 0.0;
    int keys = 0;
    for (double v : row) {
        if (cumulative >= need || !(v > 0.0)) break;
        cumulative += v;
        ++keys;
    }
    return keys;
}

TEST(RowKernels, LogPolynomialAgainstStdLog) {
    // Within the polynomial's 1.6e-6 plus float rounding of the result (|ln x| reaches 69 here).
    double worst = 0.0;
    for (float x = 1e-30f; x < 1e30f; x *= 1.0137f) {
        const double exact = std::log(double(x));
        worst = std::max(worst, std::abs(double(heads_detail::logPositive(x)) - exact) /
                                    (1.6e-6 + 1.2e-7 * std::abs(exact)));
    }
    EXPECT_LT(worst, 1.0);
    double nearOne = 0.0;
    for (float x = 0.5f; x < 2.0f; x += 1.0f / 4096)
        nearOne =
            std::max(nearOne, std::abs(double(heads_detail::logPositive(x)) - std::log(double(x))));
    EXPECT_LT(nearOne, 1.6e-6);
}

TEST(RowKernels, KeysForMassMatchSortOnAdversarialRows) {
    RestoreKernels restore;
    std::mt19937 random(11);
    std::gamma_distribution<double> peaky(0.2, 1.0), flat(20.0, 1.0);
    std::uniform_int_distribution<int> level(1, 6);
    for (RowKernelSet set : kernelSets()) {
        ASSERT_TRUE(heads_detail::selectRowKernels(set));
        heads_detail::MassScratch scratch;
        int rows = 0;
        for (int n = 1; n <= 40; ++n) {
            for (int kind = 0; kind < 6; ++kind) {
                std::vector<double> raw(static_cast<std::size_t>(n));
                for (std::size_t k = 0; k < raw.size(); ++k) {
                    switch (kind) {
                        case 0:
                            raw[k] = peaky(random);
                            break;
                        case 1:
                            raw[k] = flat(random);
                            break;
                        case 2:
                            raw[k] = 1.0;
                            break;  // all equal
                        case 3:
                            raw[k] = double(level(random));
                            break;  // ties at the crossing
                        case 4:
                            raw[k] = k % 3 == 0 ? 0.0 : flat(random);
                            break;  // zeros
                        default:
                            raw[k] = k == 0 ? 50.0 * n : flat(random);
                            break;  // dominant
                    }
                }
                double sum = 0.0;
                for (double v : raw) sum += v;
                if (!(sum > 0.0)) continue;
                // The padded row the kernels expect, raw (the need scales with the total).
                std::vector<float> row(static_cast<std::size_t>(heads_detail::paddedLength(n)),
                                       0.0f);
                float total = 0.0f, maximum = 0.0f;
                for (int k = 0; k < n; ++k) {
                    row[std::size_t(k)] = float(raw[std::size_t(k)]);
                    total += row[std::size_t(k)];
                    maximum = std::max(maximum, row[std::size_t(k)]);
                }
                std::vector<double> values;  // shares of the float total the kernel sees
                for (int k = 0; k < n; ++k) values.push_back(double(row[std::size_t(k)]) / total);
                for (double target : {0.5, 0.9, 0.99}) {
                    const double need = target - 1e-9;
                    EXPECT_EQ(heads_detail::keysForMass(row.data(), n, need * total, maximum, total,
                                                        scratch),
                              keysBySort(values, need))
                        << setName(set) << " n " << n << " kind " << kind << " target " << target;
                    ++rows;
                }
            }
        }
        EXPECT_GT(rows, 600);
    }
}

// The need is a share of the row's total, but the total a caller passes is a float sum. A need
// placed between the share of the float total and the share of the exact one (in double) must be
// counted against the exact total, as the brute force and the device pass count it.
TEST(RowKernels, KeysForMassCountsAgainstTheExactTotal) {
    RestoreKernels restore;
    std::mt19937 random(31);
    std::gamma_distribution<double> gamma(2.0, 1.0);
    for (RowKernelSet set : kernelSets()) {
        ASSERT_TRUE(heads_detail::selectRowKernels(set));
        int tested = 0;
        for (int trial = 0; trial < 200 && tested < 40; ++trial) {
            const int n = 40;
            std::vector<float> row(static_cast<std::size_t>(heads_detail::paddedLength(n)), 0.0f);
            double exact = 0.0;
            float maximum = 0.0f;
            for (int k = 0; k < n; ++k) {
                row[std::size_t(k)] = float(gamma(random));
                exact += row[std::size_t(k)];
                maximum = std::max(maximum, row[std::size_t(k)]);
            }
            const float total = float(exact);  // rounded: a float total off by its rounding
            if (double(total) == exact) continue;
            std::vector<double> sorted(row.begin(), row.begin() + n);
            std::sort(sorted.begin(), sorted.end(), std::greater<>());
            double running = 0.0;
            for (int k = 0; k < n / 2; ++k) running += sorted[std::size_t(k)];
            // The share whose need lies halfway between the running sum's shares of the two totals:
            // the float total and the exact one count n / 2 and n / 2 + 1 keys, one each way.
            const double share = running / (0.5 * (double(total) + exact));
            std::vector<double> values;
            for (int k = 0; k < n; ++k) values.push_back(double(row[std::size_t(k)]) / exact);
            const int expected = keysBySort(values, share);
            ASSERT_EQ(expected, double(total) < exact ? n / 2 + 1 : n / 2);
            heads_detail::MassScratch scratch;
            EXPECT_EQ(
                heads_detail::keysForMass(row.data(), n, share * total, maximum, total, scratch),
                expected)
                << setName(set) << " trial " << trial;
            ++tested;
        }
        EXPECT_EQ(tested, 40) << setName(set);
    }
}

// Rows read the way the feature pass reads them (loadRow with the scratch, so that the bracket
// guessed from the previous row is counted in the same sweep), then counted: every way
// keysForMass can finish must agree with a full sort. Runs of alike rows let the guess hold with
// up to 16 and with 17 to 32 values inside; jumps between kinds make it miss.
TEST(RowKernels, KeysForMassFromSweptBracketMatchSort) {
    RestoreKernels restore;
    std::mt19937 random(23);
    for (RowKernelSet set : kernelSets()) {
        ASSERT_TRUE(heads_detail::selectRowKernels(set));
        heads_detail::MassScratch scratch;
        const int n = 197;
        std::vector<float> row(static_cast<std::size_t>(heads_detail::paddedLength(n)), 0.0f);
        long rows = 0;
        for (int run = 0; run < 60; ++run) {
            // A run of rows of one kind: a few strong keys over flat noise (the crossing in the
            // noise: many values near it), or gamma-distributed rows of one shape.
            const int kind = run % 3;
            std::gamma_distribution<double> shape(kind == 1 ? 0.3 : 4.0 + run % 7, 1.0);
            std::uniform_real_distribution<double> noise(0.0, 1.0);
            for (int r = 0; r < 40; ++r) {
                std::vector<std::uint16_t> half(static_cast<std::size_t>(n));
                double sum = 0.0;
                std::vector<double> raw(static_cast<std::size_t>(n));
                for (int k = 0; k < n; ++k) {
                    raw[std::size_t(k)] =
                        kind == 0 ? (k % 17 == 0 ? 30.0 : 0.0) + noise(random) : shape(random);
                    sum += raw[std::size_t(k)];
                }
                for (int k = 0; k < n; ++k)
                    half[std::size_t(k)] = floatToHalf(float(raw[std::size_t(k)] / sum));
                const heads_detail::RowTotals totals = heads_detail::loadRow(
                    half.data(), half.size(), nullptr, n, row.data(), false, &scratch);
                std::vector<double> values;
                for (int k = 0; k < n; ++k)
                    values.push_back(double(halfToFloat(half[std::size_t(k)])) / totals.sum);
                const double need = 0.9 - 1e-9;
                ASSERT_EQ(heads_detail::keysForMass(row.data(), n, need * totals.sum,
                                                    totals.maximum, totals.sum, scratch),
                          keysBySort(values, need))
                    << setName(set) << " run " << run << " row " << r;
                ++rows;
            }
        }
        // Each way was taken often enough to count as tested.
        EXPECT_GT(scratch.finishedNarrow, rows / 10) << setName(set);
        EXPECT_GT(scratch.finishedWide, rows / 50) << setName(set);
        EXPECT_LT(scratch.finishedNarrow + scratch.finishedWide, rows - rows / 50) << setName(set);
    }
}

// A float16 stack of `heads` heads over `layout`, rows drawn from gamma distributions of
// different shapes (peaky to flat), some heads quantised to a few levels (many equal values).
AttentionStack randomHalfStack(const TokenLayout& layout, int heads, bool causal,
                               std::vector<unsigned char> keyMask, unsigned seed) {
    AttentionStack stack;
    stack.tokens = layout;
    stack.causal = causal;
    stack.modelLayers = 1;
    stack.modelHeads = heads;
    stack.keyMask = std::move(keyMask);
    AttentionLayer layer;
    layer.layer = 0;
    layer.tokens = layout.size();
    layer.precision = AttentionPrecision::Float16;
    const int n = layout.size();
    std::mt19937 random(seed);
    for (int h = 0; h < heads; ++h) {
        layer.heads.push_back(h);
        std::gamma_distribution<double> gamma(0.1 + 0.6 * h, 1.0);
        for (int q = 0; q < n; ++q) {
            std::vector<double> row(static_cast<std::size_t>(n));
            double sum = 0.0;
            for (double& v : row) {
                v = gamma(random);
                if (h % 2 == 1) v = std::round(v * 3.0);  // few levels
                sum += v;
            }
            for (double v : row)
                layer.halfValues.push_back(floatToHalf(float(v / std::max(sum, 1e-9))));
        }
    }
    stack.layers.push_back(std::move(layer));
    return stack;
}

struct BruteHead {
    double entropy = 0.0, sparsity = 0.0, self = 0.0, first = 0.0, distance = 0.0;
};

// The features directly from their definitions (REFERENCES.md, Heads), in double.
BruteHead bruteForce(const AttentionStack& stack, int slot) {
    const int n = stack.tokens.size();
    const AttentionLayer& layer = stack.layers[0];
    BruteHead b;
    int queries = 0;
    for (int q = 0; q < n; ++q) {
        if (!stack.keyMask.empty() && !stack.keyMask[std::size_t(q)]) continue;
        const int end = stack.causal ? q + 1 : n;
        std::vector<double> p(std::size_t(end), 0.0);
        double sum = 0.0;
        for (int k = 0; k < end; ++k) {
            if (!stack.keyMask.empty() && !stack.keyMask[std::size_t(k)]) continue;
            const float v = halfToFloat(
                layer.halfValues[(std::size_t(slot) * n + std::size_t(q)) * n + std::size_t(k)]);
            p[std::size_t(k)] = v > 0.0f ? v : 0.0;
            sum += p[std::size_t(k)];
        }
        if (!(sum > 0.0)) continue;
        ++queries;
        std::vector<double> scaled;
        for (int k = 0; k < end; ++k) {
            p[std::size_t(k)] /= sum;
            if (p[std::size_t(k)] > 0.0)
                b.entropy -= p[std::size_t(k)] * std::log(p[std::size_t(k)]);
            scaled.push_back(p[std::size_t(k)]);
            b.distance += p[std::size_t(k)] * std::abs(k - q);  // text: in tokens
        }
        b.sparsity += keysBySort(scaled, 0.9 - 1e-9);
        b.self += p[std::size_t(q)];
        b.first += p[0];
    }
    b.entropy /= queries;
    b.sparsity /= queries;
    b.self /= queries;
    b.first /= queries;
    b.distance /= queries;
    return b;
}

TEST(RowKernels, StackFeaturesMatchBruteForce) {
    RestoreKernels restore;
    const TokenLayout grid = TokenLayout::forVisionTransformer(true, false, 0, 9, 9);
    std::vector<std::int64_t> ids(37);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = std::int64_t(10 + i);
    const TokenLayout text = plainTextLayout(ids);
    std::vector<unsigned char> padding(37, 1);
    for (int t = 30; t < 37; ++t) padding[std::size_t(t)] = 0;  // right padding
    struct Case {
        const char* name;
        AttentionStack stack;
        bool grid;  // grid distances are checked in test_heads
    };
    const std::vector<Case> cases = {
        {"grid", randomHalfStack(grid, 6, false, {}, 3), true},
        {"causal text, padded", randomHalfStack(text, 6, true, padding, 4), false},
    };
    for (RowKernelSet set : kernelSets()) {
        ASSERT_TRUE(heads_detail::selectRowKernels(set));
        for (const Case& c : cases) {
            const HeadFeatureTable t = computeHeadFeatures(c.stack);
            for (int h = 0; h < 6; ++h) {
                const BruteHead b = bruteForce(c.stack, h);
                const HeadFeatures& m = t.heads[std::size_t(h)].mean;
                const std::string where =
                    std::string(setName(set)) + " " + c.name + " head " + std::to_string(h);
                EXPECT_NEAR(m[HeadFeature::Entropy], b.entropy, 2e-5) << where;
                EXPECT_NEAR(m[HeadFeature::Sparsity], b.sparsity, 1e-6 * b.sparsity) << where;
                EXPECT_NEAR(m[HeadFeature::SelfShare], b.self, 1e-6) << where;
                EXPECT_NEAR(m[HeadFeature::FirstTokenShare], b.first, 1e-6) << where;
                if (!c.grid) {
                    EXPECT_NEAR(m[HeadFeature::MeanDistance], b.distance, 1e-4) << where;
                }
            }
        }
    }
}

}  // namespace
