// Head analytics: features against hand-computed values and brute force on small matrices, the
// taxonomy on planted heads (each labelled with exactly its pattern), clustering and embeddings
// recovering planted groups, PCA against an independent eigen-decomposition, and sinks on a
// planted sink stack.
#include "core/explain/head_patterns.h"
#include "core/heads/attention_sinks.h"
#include "core/heads/head_atlas.h"
#include "core/heads/head_clusters.h"
#include "core/heads/head_features.h"
#include "core/heads/head_taxonomy.h"
#include "core/heads/planted_heads.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace fovea;

// A one-layer, one-head stack over `layout` holding `matrix` (float32).
AttentionStack singleHead(const TokenLayout& layout, const std::vector<float>& matrix, bool causal = false) {
    AttentionStack stack;
    stack.tokens = layout;
    stack.causal = causal;
    stack.modelLayers = 1;
    stack.modelHeads = 1;
    AttentionLayer layer;
    layer.layer = 0;
    layer.heads = {0};
    layer.tokens = layout.size();
    layer.precision = AttentionPrecision::Float32;
    layer.floatValues = matrix;
    stack.layers.push_back(layer);
    return stack;
}

TokenLayout textLayout(int n) {
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) ids[std::size_t(i)] = 100 + i;
    return plainTextLayout(ids);
}

float feature(const HeadFeatureTable& table, HeadFeature f, int index = 0) {
    return table.heads.at(std::size_t(index)).mean[f];
}

// ---- features on tiny matrices, by hand ----

TEST(HeadFeatures, TinyTextMatrixByHand) {
    const std::vector<float> a = {0.5f, 0.5f, 0.0f,  //
                                  0.25f, 0.25f, 0.5f,  //
                                  1.0f, 0.0f, 0.0f};
    const HeadFeatureTable t = computeHeadFeatures(singleHead(textLayout(3), a));
    ASSERT_EQ(t.heads.size(), 1u);
    EXPECT_EQ(t.modality, Modality::Text);
    EXPECT_FALSE(t.grid);
    // Entropies ln 2, 0.5 ln 4 + 0.5 ln 2, 0.
    const double h1 = std::log(2.0), h2 = 0.5 * std::log(4.0) + 0.5 * std::log(2.0);
    EXPECT_NEAR(feature(t, HeadFeature::Entropy), (h1 + h2) / 3.0, 1e-4);
    EXPECT_NEAR(feature(t, HeadFeature::NormalizedEntropy), (h1 + h2) / std::log(3.0) / 3.0, 1e-4);
    EXPECT_NEAR(feature(t, HeadFeature::MeanDistance), (0.5 + 0.75 + 2.0) / 3.0, 1e-6);
    // Uniform attention: mean |q - k| per row 1, 2/3, 1.
    EXPECT_NEAR(feature(t, HeadFeature::DistanceRatio), ((0.5 + 0.75 + 2.0) / 3.0) / ((1.0 + 2.0 / 3.0 + 1.0) / 3.0), 1e-5);
    EXPECT_NEAR(feature(t, HeadFeature::Sparsity), (2.0 + 3.0 + 1.0) / 3.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::SparsityFraction), 2.0 / 3.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::SelfShare), 0.25, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::FirstTokenShare), 1.75 / 3.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::PreviousToken), 0.125, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::MaxKeyShare), 1.75 / 3.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::SinkShare), 1.75 / 3.0 + 0.25, 1e-6);  // keys 0 and 1 exceed 0.2
    EXPECT_TRUE(std::isnan(feature(t, HeadFeature::ClsShare)));
    EXPECT_TRUE(std::isnan(feature(t, HeadFeature::RowAlignment)));
    EXPECT_TRUE(std::isnan(feature(t, HeadFeature::Induction)));  // no ids
    EXPECT_TRUE(std::isnan(feature(t, HeadFeature::AttendedNorm)));  // no norms
    // Offset pattern (radius 8, offset k - q at [k - q + 8]): offset -2 only from query 2 (1 pair, 1.0).
    const std::vector<float>& pattern = t.heads[0].mean.offsetPattern;
    ASSERT_EQ(pattern.size(), 17u);
    EXPECT_NEAR(pattern[8 - 2], 1.0, 1e-6);
    EXPECT_NEAR(pattern[8], (0.5 + 0.25 + 0.0) / 3.0, 1e-6);  // the diagonal, 3 pairs
    EXPECT_NEAR(pattern[8 + 1], (0.5 + 0.5) / 2.0, 1e-6);     // offset +1: (0,1) 0.5 and (1,2) 0.5
}

TEST(HeadFeatures, CausalMaskAndPaddingAreRespected) {
    // Entries above the diagonal are junk the model never used; they must be ignored.
    const std::vector<float> a = {0.7f, 0.2f, 0.1f,  //
                                  0.3f, 0.3f, 0.4f,  //
                                  0.2f, 0.3f, 0.5f};
    const HeadFeatureTable t = computeHeadFeatures(singleHead(textLayout(3), a, /*causal*/ true));
    const double h2 = std::log(2.0);
    const double h3 = -(0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.5 * std::log(0.5));
    EXPECT_NEAR(feature(t, HeadFeature::Entropy), (h2 + h3) / 3.0, 1e-4);
    EXPECT_NEAR(feature(t, HeadFeature::NormalizedEntropy), (1.0 + h3 / std::log(3.0)) / 2.0, 1e-4);
    EXPECT_NEAR(feature(t, HeadFeature::SelfShare), (1.0 + 0.5 + 0.5) / 3.0, 1e-5);
    // 90% needs every visible key in each row: 1 of 1, 2 of 2 (0.5, 0.5), 3 of 3 (0.5 + 0.3 < 0.9).
    EXPECT_NEAR(feature(t, HeadFeature::Sparsity), (1.0 + 2.0 + 3.0) / 3.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::SparsityFraction), 1.0, 1e-6);

    // Padding: the third position is padding, so it is neither a query nor a key.
    AttentionStack padded = singleHead(textLayout(3), {0.5f, 0.5f, 0.0f, 0.1f, 0.3f, 0.6f, 0.3f, 0.3f, 0.4f});
    padded.keyMask = {1, 1, 0};
    const HeadFeatureTable p = computeHeadFeatures(padded);
    // Row 1 renormalised over keys 0, 1: 0.25, 0.75.
    EXPECT_NEAR(feature(p, HeadFeature::SelfShare), (0.5 + 0.75) / 2.0, 1e-6);
    EXPECT_NEAR(feature(p, HeadFeature::NormalizedEntropy),
                (1.0 + -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)) / std::log(2.0)) / 2.0, 1e-4);
}

TEST(HeadFeatures, GridDistancesAlignmentAndProfile) {
    // 2 x 2 patches without CLS, patch size 16 px. Head 0 looks at the diagonally opposite patch,
    // head 1 at its horizontal neighbour.
    const TokenLayout layout = TokenLayout::forVisionTransformer(false, false, 0, 2, 2);
    std::vector<float> opposite(16, 0.0f), horizontal(16, 0.0f);
    for (int q = 0; q < 4; ++q) {
        opposite[std::size_t(q * 4 + (3 - q))] = 1.0f;
        horizontal[std::size_t(q * 4 + (q ^ 1))] = 1.0f;
    }
    AttentionStack stack = singleHead(layout, opposite);
    stack.layers[0].heads = {0, 1};
    stack.layers[0].floatValues.insert(stack.layers[0].floatValues.end(), horizontal.begin(), horizontal.end());
    stack.modelHeads = 2;
    HeadFeatureOptions options;
    options.offsetRadius = 1;
    const HeadFeatureTable t = computeHeadFeatures(stack, options);
    ASSERT_TRUE(t.grid);
    const double uniform = (0.0 + 1.0 + 1.0 + std::sqrt(2.0)) / 4.0;  // patches, over all 16 pairs
    EXPECT_NEAR(feature(t, HeadFeature::MeanDistance, 0), std::sqrt(2.0) * 16.0, 1e-4);
    EXPECT_NEAR(feature(t, HeadFeature::DistanceRatio, 0), std::sqrt(2.0) / uniform, 1e-5);
    EXPECT_NEAR(feature(t, HeadFeature::MeanDistance, 1), 16.0, 1e-5);
    // Chance of another patch on the same row: 1 of 3; (observed - 1/3) / (2/3).
    EXPECT_NEAR(feature(t, HeadFeature::RowAlignment, 0), -0.5, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::ColumnAlignment, 0), -0.5, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::RowAlignment, 1), 1.0, 1e-6);
    EXPECT_NEAR(feature(t, HeadFeature::ColumnAlignment, 1), -0.5, 1e-6);
    // Offset pattern (3 x 3, (dr, dc) at [(dr+1)*3 + dc+1]): (0, +1) has 2 pairs, both weight 1.
    const std::vector<float>& pattern = t.heads[1].mean.offsetPattern;
    ASSERT_EQ(pattern.size(), 9u);
    EXPECT_NEAR(pattern[1 * 3 + 2], 1.0, 1e-6);
    EXPECT_NEAR(pattern[1 * 3 + 0], 1.0, 1e-6);
    EXPECT_NEAR(pattern[1 * 3 + 1], 0.0, 1e-6);
    EXPECT_NEAR(t.heads[0].mean.offsetPattern[2 * 3 + 2], 1.0, 1e-6);  // (+1, +1): 1 pair
    // Profile of a uniform head on a grid with CLS: every bin holds the mean weight 1/17.
    const TokenLayout withCls = TokenLayout::forVisionTransformer(true, false, 0, 4, 4);
    const HeadFeatureTable u = computeHeadFeatures(singleHead(withCls, std::vector<float>(17 * 17, 1.0f / 17.0f)));
    for (float v : u.heads[0].mean.distanceProfile) {
        if (v != 0.0f) {
            EXPECT_NEAR(v, 1.0 / 17.0, 1e-6);
        }
    }
    EXPECT_EQ(u.distanceBinEdges.size(), 11u);
    EXPECT_NEAR(u.distanceBinEdges.back(), std::hypot(3.0, 3.0) * 16.0, 1e-3);
    EXPECT_NEAR(feature(u, HeadFeature::ClsShare), 1.0 / 17.0, 1e-6);
    EXPECT_NEAR(feature(u, HeadFeature::NormalizedEntropy), 1.0, 1e-4);
    EXPECT_NEAR(feature(u, HeadFeature::DistanceRatio), 1.0, 1e-5);
}

// Brute force: entropy with std::log and sparsity by a full sort, on random rows.
TEST(HeadFeatures, EntropyAndSparsityMatchBruteForce) {
    const int n = 50;
    std::mt19937 random(7);
    std::gamma_distribution<double> gamma(0.3, 1.0);  // peaky rows, many tiny values
    std::vector<float> a(std::size_t(n) * n);
    double entropy = 0.0, sparsity = 0.0;
    for (int q = 0; q < n; ++q) {
        std::vector<double> row(static_cast<std::size_t>(n));
        double sum = 0.0;
        for (double& v : row) {
            v = gamma(random) + 1e-9;
            sum += v;
        }
        for (int k = 0; k < n; ++k) a[std::size_t(q * n + k)] = float(row[std::size_t(k)] / sum);
        std::vector<double> sorted;
        double fsum = 0.0;
        for (int k = 0; k < n; ++k) fsum += a[std::size_t(q * n + k)];
        double h = 0.0;
        for (int k = 0; k < n; ++k) {
            const double p = a[std::size_t(q * n + k)] / fsum;
            sorted.push_back(p);
            if (p > 0) h -= p * std::log(p);
        }
        entropy += h;
        std::sort(sorted.rbegin(), sorted.rend());
        double cumulative = 0.0;
        int keys = 0;
        while (cumulative < 0.9 - 1e-9) cumulative += sorted[std::size_t(keys++)];
        sparsity += keys;
    }
    const HeadFeatureTable t = computeHeadFeatures(singleHead(textLayout(n), a));
    EXPECT_NEAR(feature(t, HeadFeature::Entropy), entropy / n, 2e-4);
    EXPECT_NEAR(feature(t, HeadFeature::Sparsity), sparsity / n, 1e-6);
}

TEST(HeadFeatures, PatternScoresAgreeWithTransformerLensScores) {
    const std::vector<std::int64_t> ids = repeatedRandomSequence(15, 500, 3, 499);
    const TokenLayout layout = plainTextLayout(ids);
    const AttentionStack stack = plantedStack(
        layout, {{PlantedPattern::Induction, PlantedPattern::DuplicateToken, PlantedPattern::PreviousToken, PlantedPattern::Uniform}},
        ids, true, 0.2, 5);
    const HeadFeatureTable t = computeHeadFeatures(stack, {}, ids);
    const HeadPatternScores reference = scoreHeadPatterns(stack, ids);
    const std::vector<float> duplicatePattern = headDetectionPattern(HeadPattern::DuplicateToken, ids);
    for (int h = 0; h < 4; ++h) {
        EXPECT_NEAR(feature(t, HeadFeature::Induction, h), reference.inductionRows[0][std::size_t(h)], 1e-5) << h;
        EXPECT_NEAR(feature(t, HeadFeature::PreviousToken, h), reference.previousTokenRows[0][std::size_t(h)], 1e-5) << h;
        const float duplicate = headPatternScore(stack.layers[0].matrix(h), duplicatePattern, layout.size(), true);
        EXPECT_NEAR(feature(t, HeadFeature::DuplicateToken, h), duplicate, 1e-5) << h;
    }
}

TEST(HeadFeatures, MeanAndSpreadOverInputsAndFloat16) {
    const TokenLayout layout = textLayout(3);
    HeadFeatureAccumulator accumulator;
    accumulator.add(singleHead(layout, {1, 0, 0, 0, 1, 0, 0, 0, 1}));                      // self 1
    accumulator.add(singleHead(layout, {1, 0, 0, 1, 0, 0, 1, 0, 0}));                      // self 1/3
    const HeadFeatureTable t = accumulator.table();
    EXPECT_EQ(t.inputs, 2);
    EXPECT_NEAR(t.heads[0].mean[HeadFeature::SelfShare], 2.0 / 3.0, 1e-6);
    EXPECT_NEAR(t.heads[0].spread[HeadFeature::SelfShare], 1.0 / 3.0, 1e-6);
    EXPECT_THROW(accumulator.add(singleHead(textLayout(4), std::vector<float>(16, 0.25f))), Error);
    EXPECT_THROW(HeadFeatureAccumulator().table(), Error);

    // A float16 capture measures like float32 within float16's rounding.
    const TokenLayout grid = TokenLayout::forVisionTransformer(true, false, 0, 6, 6);
    const auto patterns = std::vector<std::vector<PlantedPattern>>{{PlantedPattern::Local, PlantedPattern::Row}};
    const HeadFeatureTable full = computeHeadFeatures(plantedStack(grid, patterns, {}, false, 0.1, 2, false));
    const HeadFeatureTable half = computeHeadFeatures(plantedStack(grid, patterns, {}, false, 0.1, 2, true));
    for (int h = 0; h < 2; ++h) {
        EXPECT_NEAR(feature(full, HeadFeature::Entropy, h), feature(half, HeadFeature::Entropy, h), 2e-3);
        EXPECT_NEAR(feature(full, HeadFeature::MeanDistance, h), feature(half, HeadFeature::MeanDistance, h), 2e-2);
    }
}

TEST(HeadFeatures, AttendedNormFromValueNorms) {
    AttentionStack stack = singleHead(textLayout(4), {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0});
    // Values: token 0 has norm 10, the others 1 and 2 (two heads of width 1 -> [4, 2]).
    stack.layers[0].values = {6, 8, 1, 0, 0, 1, 0, 2};
    stack.layers[0].headDim = 1;
    const std::vector<std::vector<float>> norms = valueNorms(stack);
    ASSERT_EQ(norms.size(), 1u);
    EXPECT_NEAR(norms[0][0], 10.0, 1e-6);
    EXPECT_NEAR(norms[0][3], 2.0, 1e-6);
    const HeadFeatureTable t = computeHeadFeatures(stack, {}, {}, norms);
    // Everyone attends to token 0 (norm 10); the median of {10, 1, 1, 2} is 2 (upper median).
    EXPECT_NEAR(feature(t, HeadFeature::AttendedNorm), 10.0 / 2.0, 1e-5);
    EXPECT_THROW(computeHeadFeatures(stack, {}, {}, {{1.0f}, {2.0f}}), Error);
}

// ---- taxonomy on planted heads ----

using Labels = std::set<std::string>;

Labels labelSet(const std::vector<HeadLabel>& labels) {
    Labels out;
    for (HeadLabel label : labels) out.insert(headLabelName(label));
    return out;
}

TEST(HeadTaxonomy, PlantedVisionHeadsGetExactlyTheirLabels) {
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 8, 8);
    const std::vector<PlantedPattern> patterns = {PlantedPattern::Local,  PlantedPattern::Global, PlantedPattern::Sink,
                                                  PlantedPattern::ClsCollector, PlantedPattern::Self, PlantedPattern::Row,
                                                  PlantedPattern::Column, PlantedPattern::Uniform};
    const std::vector<Labels> expected = {{"local"}, {"global"}, {"sink"}, {"cls-collector"},
                                          {"self"},  {"row"},    {"column"}, {"uniform"}};
    HeadFeatureAccumulator accumulator;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) accumulator.add(plantedStack(layout, {patterns}, {}, false, 0.1, seed, true));
    const HeadFeatureTable table = accumulator.table();
    const auto labels = classifyHeads(table);
    ASSERT_EQ(labels.size(), patterns.size());
    for (std::size_t h = 0; h < patterns.size(); ++h) EXPECT_EQ(labelSet(labels[h]), expected[h]) << "head " << h;
}

TEST(HeadTaxonomy, PlantedTextHeadsGetExactlyTheirLabels) {
    const std::vector<std::int64_t> ids = repeatedRandomSequence(20, 1000, 11, 999);
    const TokenLayout layout = plainTextLayout(ids);
    const std::vector<PlantedPattern> patterns = {PlantedPattern::PreviousToken, PlantedPattern::Induction,
                                                  PlantedPattern::DuplicateToken, PlantedPattern::Sink,
                                                  PlantedPattern::Uniform, PlantedPattern::Local, PlantedPattern::Self};
    const std::vector<Labels> expected = {{"previous-token"}, {"induction"}, {"duplicate-token"}, {"sink"},
                                          {"uniform"},        {"local"},     {"self"}};
    const HeadFeatureTable table = computeHeadFeatures(plantedStack(layout, {patterns}, ids, true, 0.1, 4), {}, ids);
    const auto labels = classifyHeads(table);
    for (std::size_t h = 0; h < patterns.size(); ++h) EXPECT_EQ(labelSet(labels[h]), expected[h]) << "head " << h;
}

TEST(HeadTaxonomy, NamesColoursAndParsing) {
    std::set<std::string> names;
    std::set<int> colours;
    for (HeadLabel label : allHeadLabels()) {
        names.insert(headLabelName(label));
        const RgbColour c = headLabelColour(label);
        colours.insert(c.red * 65536 + c.green * 256 + c.blue);
        EXPECT_EQ(headLabelFromName(headLabelName(label)), label);
        EXPECT_GT(std::string(headLabelRule(label)).size(), 10u);
    }
    EXPECT_EQ(names.size(), std::size_t(kHeadLabelCount));
    EXPECT_EQ(colours.size(), std::size_t(kHeadLabelCount));
    EXPECT_THROW(headLabelFromName("diagonal"), Error);
    EXPECT_EQ(joinHeadLabels({HeadLabel::Local, HeadLabel::Row}), "local|row");
}

// ---- clustering, embeddings ----

// `groups` groups of `size` noisy copies of random centres in `dims` dimensions.
DescriptorMatrix plantedGroups(int groups, int size, int dims, double noise, std::uint64_t seed, std::vector<int>& truth) {
    std::mt19937_64 random(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    DescriptorMatrix m;
    m.rows = groups * size;
    m.cols = dims;
    std::vector<std::vector<double>> centres(static_cast<std::size_t>(groups), std::vector<double>(static_cast<std::size_t>(dims)));
    for (auto& c : centres) {
        for (double& v : c) v = 4.0 * normal(random);
    }
    truth.clear();
    for (int g = 0; g < groups; ++g) {
        for (int i = 0; i < size; ++i) {
            for (int d = 0; d < dims; ++d) m.values.push_back(centres[std::size_t(g)][std::size_t(d)] + noise * normal(random));
            truth.push_back(g);
        }
    }
    return m;
}

// Same partition up to renaming of the clusters.
bool samePartition(const std::vector<int>& a, const std::vector<int>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < a.size(); ++j) {
            if ((a[i] == a[j]) != (b[i] == b[j])) return false;
        }
    }
    return true;
}

TEST(HeadClusters, SilhouettePicksThePlantedK) {
    std::vector<int> truth;
    const DescriptorMatrix data = plantedGroups(3, 12, 6, 0.5, 9, truth);
    for (ClusterMethod method : {ClusterMethod::KMeans, ClusterMethod::Ward}) {
        ClusterOptions options;
        options.method = method;
        const HeadClustering c = clusterHeads(data, options);
        EXPECT_EQ(c.k, 3) << clusterMethodName(method);
        EXPECT_TRUE(samePartition(c.assignment, truth)) << clusterMethodName(method);
        EXPECT_EQ(c.candidateK.size(), 7u);
        options.k = 5;  // user override
        EXPECT_EQ(clusterHeads(data, options).k, 5);
    }
}

TEST(HeadClusters, SilhouetteByHand) {
    DescriptorMatrix line;
    line.rows = 4;
    line.cols = 1;
    line.values = {0, 1, 10, 11};
    const double s0 = (10.5 - 1.0) / 10.5, s1 = (9.5 - 1.0) / 9.5;
    EXPECT_NEAR(silhouetteScore(line, {0, 0, 1, 1}), (2 * s0 + 2 * s1) / 4.0, 1e-12);
    EXPECT_NEAR(silhouetteScore(line, {0, 0, 0, 0}), 0.0, 1e-12);
}

TEST(HeadClusters, JacobiAgainstAKnownDecomposition) {
    // A = Q diag(5, 2, 0.5) Q^T with Q a product of two rotations.
    const double a = 0.3, b = 1.1;
    const double r1[9] = {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
    const double r2[9] = {1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)};
    double q[9] = {};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) q[i * 3 + j] += r1[i * 3 + k] * r2[k * 3 + j];
    const double lambda[3] = {5.0, 2.0, 0.5};
    std::vector<double> m(9, 0.0);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) m[std::size_t(i * 3 + j)] += q[i * 3 + k] * lambda[k] * q[j * 3 + k];
    std::vector<double> values, vectors;
    symmetricEigen(m, 3, values, vectors);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(values[std::size_t(c)], lambda[c], 1e-10);
        double dot = 0.0;  // against column c of Q
        for (int k = 0; k < 3; ++k) dot += vectors[std::size_t(c * 3 + k)] * q[k * 3 + c];
        EXPECT_NEAR(std::abs(dot), 1.0, 1e-10);
    }
}

TEST(HeadClusters, PcaAgainstBruteForceOverDirections) {
    // Correlated 3-D data; the first axis must maximise the variance over all unit directions
    // (searched on a fine grid of the sphere), with that variance as its eigenvalue.
    std::mt19937_64 random(21);
    std::normal_distribution<double> normal(0.0, 1.0);
    DescriptorMatrix data;
    data.rows = 200;
    data.cols = 3;
    for (int r = 0; r < data.rows; ++r) {
        const double u = normal(random), v = normal(random), w = normal(random);
        data.values.insert(data.values.end(), {3.0 * u + 0.5 * v, 1.5 * u - v + 0.2 * w, 0.3 * w + 1.0});
    }
    const PcaResult pca = principalComponents(data, 2);
    double mean[3] = {};
    for (int r = 0; r < data.rows; ++r)
        for (int c = 0; c < 3; ++c) mean[c] += data.at(r, c) / data.rows;
    auto varianceAlong = [&](const double* dir) {
        double s = 0.0;
        for (int r = 0; r < data.rows; ++r) {
            double p = 0.0;
            for (int c = 0; c < 3; ++c) p += (data.at(r, c) - mean[c]) * dir[c];
            s += p * p;
        }
        return s / (data.rows - 1);
    };
    double best = 0.0, bestDir[3] = {};
    for (int i = 0; i <= 400; ++i) {
        const double theta = M_PI * i / 400.0;
        for (int j = 0; j < 800; ++j) {
            const double phi = 2.0 * M_PI * j / 800.0;
            const double dir[3] = {std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta)};
            const double v = varianceAlong(dir);
            if (v > best) {
                best = v;
                std::copy(dir, dir + 3, bestDir);
            }
        }
    }
    EXPECT_NEAR(pca.variances[0], best, 1e-3 * best);
    double dot = 0.0;
    for (int c = 0; c < 3; ++c) dot += pca.axes[std::size_t(c)] * bestDir[c];
    EXPECT_GT(std::abs(dot), 0.9999);
    // Coordinates are the centred data on the axes: their variance is the eigenvalue.
    double s = 0.0;
    for (int r = 0; r < data.rows; ++r) s += std::pow(pca.coordinates[std::size_t(r * 2)], 2);
    EXPECT_NEAR(s / (data.rows - 1), pca.variances[0], 1e-9 * best);
    // Wide data (more columns than rows) goes through the Gram matrix: same variances.
    std::vector<int> truth;
    const DescriptorMatrix wide = plantedGroups(2, 4, 20, 1.0, 3, truth);
    DescriptorMatrix tall = wide;  // the same data with extra copies of the rows is not comparable; use the
    const PcaResult gram = principalComponents(wide, 3);  // trace identity instead
    double trace = 0.0;
    for (double v : gram.variances) trace += v;
    EXPECT_LE(trace, gram.totalVariance + 1e-9);
    const PcaResult all = principalComponents(wide, 7);  // rank 7 (8 centred rows): all the variance
    double full = 0.0;
    for (double v : all.variances) full += v;
    EXPECT_NEAR(full, all.totalVariance, 1e-8 * all.totalVariance);
    (void)tall;
}

TEST(HeadClusters, TsneKeepsPlantedClustersApart) {
    std::vector<int> truth;
    const DescriptorMatrix data = plantedGroups(3, 20, 10, 1.0, 13, truth);
    TsneOptions options;
    options.iterations = 500;
    options.perplexity = 10;
    const std::vector<double> y = tsneEmbedding(data, options);
    ASSERT_EQ(y.size(), 120u);
    for (double v : y) ASSERT_TRUE(std::isfinite(v));
    // Every point's nearest neighbour in the map is from its own group ...
    for (int i = 0; i < 60; ++i) {
        int nearest = -1;
        double best = 1e300;
        for (int j = 0; j < 60; ++j) {
            if (j == i) continue;
            const double d = std::hypot(y[std::size_t(2 * i)] - y[std::size_t(2 * j)], y[std::size_t(2 * i + 1)] - y[std::size_t(2 * j + 1)]);
            if (d < best) {
                best = d;
                nearest = j;
            }
        }
        EXPECT_EQ(truth[std::size_t(nearest)], truth[std::size_t(i)]) << i;
    }
    // ... and the groups are well separated: silhouette of the truth in the map.
    DescriptorMatrix map;
    map.rows = 60;
    map.cols = 2;
    map.values = y;
    EXPECT_GT(silhouetteScore(map, truth), 0.6);
    EXPECT_EQ(tsneEmbedding(data, options), y);  // deterministic for a seed
}

TEST(HeadClusters, AtlasRecoversPlantedHeadGroups) {
    // 3 kinds of heads x 6 noisy copies over a 10 x 10 grid: local, row, cls-collector.
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 10, 10);
    std::vector<PlantedPattern> heads;
    std::vector<int> truth;
    const PlantedPattern kinds[3] = {PlantedPattern::Local, PlantedPattern::Row, PlantedPattern::ClsCollector};
    for (int i = 0; i < 18; ++i) {
        heads.push_back(kinds[i % 3]);
        truth.push_back(i % 3);
    }
    HeadFeatureAccumulator accumulator;
    accumulator.add(plantedStack(layout, {heads}, {}, false, 0.15, 8));
    for (HeadEmbedding embedding : {HeadEmbedding::Pca, HeadEmbedding::Tsne}) {
        HeadAtlasOptions options;
        options.embedding = embedding;
        options.tsne.perplexity = 5;
        const HeadAtlas atlas = buildHeadAtlas(accumulator.table(), options);
        EXPECT_EQ(atlas.clusters.k, 3);
        EXPECT_TRUE(samePartition(atlas.clusters.assignment, truth));
        std::set<std::string> names(atlas.clusterNames.begin(), atlas.clusterNames.end());
        EXPECT_EQ(names, (std::set<std::string>{"local", "row", "cls-collector"}));
        ASSERT_EQ(atlas.embedding2d.size(), 36u);
        ASSERT_EQ(atlas.embedding3d.size(), 54u);
        // Planted groups are apart in the 2D map too.
        DescriptorMatrix map;
        map.rows = 18;
        map.cols = 2;
        map.values = atlas.embedding2d;
        EXPECT_GT(silhouetteScore(map, truth), 0.5) << headEmbeddingName(embedding);
    }
}

TEST(HeadClusters, ClusterNamesFromDominantLabels) {
    const std::vector<std::vector<HeadLabel>> labels = {
        {HeadLabel::Local, HeadLabel::Row}, {HeadLabel::Local}, {HeadLabel::Local, HeadLabel::Row},  // cluster 0
        {}, {}, {HeadLabel::Sink},                                                                   // cluster 1
        {HeadLabel::Uniform}, {HeadLabel::Sink},                                                     // cluster 2
        {HeadLabel::Local},                                                                          // cluster 3
        {HeadLabel::Local, HeadLabel::Self}, {HeadLabel::Local}, {HeadLabel::Local}};                // cluster 4
    const std::vector<std::string> names = nameClusters({0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 4, 4}, 5, labels);
    EXPECT_EQ(names, (std::vector<std::string>{"local+row", "unlabelled", "sink+uniform", "local", "local 2"}));
}

// ---- sinks ----

TEST(AttentionSinks, PlantedPrimaryAndSecondarySinks) {
    // 6 layers x 2 heads over CLS + 4 x 4 patches: CLS takes 0.6 of every row in every layer
    // (primary); patch (1,1) takes 0.3 more in layers 2 and 3 only (secondary); the rest is
    // spread evenly over the 17 tokens.
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 4, 4);
    const int n = 17, patch = layout.patchIndex(1, 1);
    AttentionStack stack;
    stack.tokens = layout;
    stack.modelLayers = 6;
    stack.modelHeads = 2;
    for (int l = 0; l < 6; ++l) {
        AttentionLayer layer;
        layer.layer = l;
        layer.heads = {0, 1};
        layer.tokens = n;
        layer.precision = AttentionPrecision::Float32;
        const bool secondary = l == 2 || l == 3;
        const double rest = 1.0 - 0.6 - (secondary ? 0.3 : 0.0);
        for (int h = 0; h < 2; ++h) {
            for (int q = 0; q < n; ++q) {
                for (int k = 0; k < n; ++k) {
                    double v = rest / n;
                    if (k == 0) v += 0.6;
                    if (k == patch && secondary) v += 0.3;
                    layer.floatValues.push_back(float(v));
                }
            }
        }
        stack.layers.push_back(layer);
    }
    const SinkAnalysis sinks = analyzeAttentionSinks(stack);
    ASSERT_EQ(sinks.layers.size(), 6u);
    EXPECT_NEAR(sinks.mass(0, 0), 0.6 + 0.4 / n, 1e-6);
    EXPECT_NEAR(sinks.mass(2, patch), 0.3 + 0.1 / n, 1e-6);
    EXPECT_NEAR(sinks.mass(2, 5), 0.1 / n, 1e-6);
    ASSERT_EQ(sinks.sinks.size(), 2u);
    EXPECT_EQ(sinks.sinks[0].position, 0);
    EXPECT_EQ(sinks.sinks[0].label, "CLS");
    EXPECT_EQ(sinks.sinks[0].kind, SinkKind::Primary);
    EXPECT_EQ(sinks.sinks[0].layerCount, 6);
    EXPECT_EQ(sinks.sinks[1].position, patch);
    EXPECT_EQ(sinks.sinks[1].kind, SinkKind::Secondary);
    EXPECT_EQ(sinks.sinks[1].firstLayer, 2);
    EXPECT_EQ(sinks.sinks[1].lastLayer, 3);
    EXPECT_EQ(sinks.sinks[1].label, "P(1,1)");
    EXPECT_EQ(sinkPositionsToExclude(sinks), (std::vector<int>{0, patch}));
    EXPECT_EQ(sinkPositionsToExclude(sinks, 0), (std::vector<int>{0}));
    // A higher tau keeps only CLS.
    SinkOptions strict;
    strict.tau = 0.5;
    EXPECT_EQ(analyzeAttentionSinks(stack, strict).sinks.size(), 1u);
    strict.tau = 1.5;
    EXPECT_THROW(analyzeAttentionSinks(stack, strict), Error);
}

TEST(AttentionSinks, HighNormTokens) {
    const HighNormTokens t = highNormTokens({{1, 1.2f, 0.9f, 10, 1.1f}, {}}, {4, 5}, 3.0);
    ASSERT_EQ(t.layers, (std::vector<int>{4}));
    EXPECT_EQ(t.positions[0], (std::vector<int>{3}));
    EXPECT_NEAR(t.ratios[0][0], 10.0 / 1.1, 1e-5);
    EXPECT_THROW(highNormTokens({{1.0f}}, {1, 2}), Error);
}

}  // namespace
