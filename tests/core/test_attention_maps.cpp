// Raw attention maps and rollout, checked against the fixture's reference rollout (computed by
// an independent PyTorch implementation) and against brute-force versions written here.
#include "core/explain/attention_maps.h"
#include "core/explain/pointing_game.h"
#include "core/io/npy.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fovea;

const std::string kData = FOVEA_TEST_DATA_DIR;

// A float32 stack of every layer and head from a [L,H,N,N] array.
AttentionStack stackFromArray(const std::vector<float>& values, int layers, int heads, int tokens,
                              const TokenLayout& layout) {
    AttentionStack stack;
    stack.tokens = layout;
    stack.modelLayers = layers;
    stack.modelHeads = heads;
    const std::size_t perLayer = std::size_t(heads) * tokens * tokens;
    for (int l = 0; l < layers; ++l) {
        AttentionLayer layer;
        layer.layer = l;
        layer.tokens = tokens;
        layer.precision = AttentionPrecision::Float32;
        for (int h = 0; h < heads; ++h) layer.heads.push_back(h);
        layer.floatValues.assign(values.begin() + std::ptrdiff_t(perLayer * l),
                                 values.begin() + std::ptrdiff_t(perLayer * (l + 1)));
        stack.layers.push_back(std::move(layer));
    }
    return stack;
}

// Random row-stochastic attention, [L,H,N,N].
std::vector<float> randomAttention(int layers, int heads, int tokens, std::uint32_t seed) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> values(std::size_t(layers) * heads * tokens * tokens);
    for (std::size_t row = 0; row < values.size() / std::size_t(tokens); ++row) {
        float sum = 0.0f;
        for (int k = 0; k < tokens; ++k) sum += values[row * tokens + k] = std::pow(uniform(generator), 3.0f);
        for (int k = 0; k < tokens; ++k) values[row * tokens + k] /= sum;
    }
    return values;
}

using Matrix = std::vector<std::vector<double>>;

Matrix zeros(int n) { return Matrix(static_cast<std::size_t>(n), std::vector<double>(static_cast<std::size_t>(n), 0.0)); }

// Brute-force rollout in double: fusion, discard by ranking every entry, 0.5 A + 0.5 I, rows
// renormalised, R = A_L ... A_1.
Matrix bruteRollout(const std::vector<float>& values, int layers, int heads, int n, HeadFusion fusion,
                    double discard, int cls) {
    Matrix rollout = zeros(n);
    for (int i = 0; i < n; ++i) rollout[std::size_t(i)][std::size_t(i)] = 1.0;
    for (int l = 0; l < layers; ++l) {
        Matrix fused = zeros(n);
        for (int q = 0; q < n; ++q) {
            for (int k = 0; k < n; ++k) {
                double mean = 0.0, high = -1.0, low = 2.0;
                for (int h = 0; h < heads; ++h) {
                    const double a = values[((std::size_t(l) * heads + h) * n + q) * n + k];
                    mean += a / heads;
                    high = std::max(high, a);
                    low = std::min(low, a);
                }
                fused[std::size_t(q)][std::size_t(k)] =
                    fusion == HeadFusion::Mean ? mean : fusion == HeadFusion::Max ? high : low;
            }
        }
        if (discard > 0.0) {
            const int drop = int(double(n) * n * discard);
            Matrix kept = fused;
            for (int q = 0; q < n; ++q) {
                for (int k = 0; k < n; ++k) {
                    if (k == cls) continue;
                    // Rank among the candidates (not in the CLS column); ties by position.
                    int rank = 0;
                    const float mine = float(fused[std::size_t(q)][std::size_t(k)]);
                    for (int q2 = 0; q2 < n; ++q2) {
                        for (int k2 = 0; k2 < n; ++k2) {
                            if (k2 == cls) continue;
                            const float other = float(fused[std::size_t(q2)][std::size_t(k2)]);
                            if (other < mine || (other == mine && q2 * n + k2 < q * n + k)) ++rank;
                        }
                    }
                    if (rank < drop) kept[std::size_t(q)][std::size_t(k)] = 0.0;
                }
            }
            fused = kept;
        }
        Matrix step = zeros(n);
        for (int q = 0; q < n; ++q) {
            double sum = 0.0;
            for (int k = 0; k < n; ++k) sum += step[std::size_t(q)][std::size_t(k)] = 0.5 * fused[std::size_t(q)][std::size_t(k)] + (q == k ? 0.5 : 0.0);
            for (int k = 0; k < n; ++k) step[std::size_t(q)][std::size_t(k)] /= sum;
        }
        Matrix next = zeros(n);
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j)
                for (int k = 0; k < n; ++k) next[std::size_t(i)][std::size_t(j)] += step[std::size_t(i)][std::size_t(k)] * rollout[std::size_t(k)][std::size_t(j)];
        rollout = next;
    }
    return rollout;
}

TEST(Rollout, MatchesTheFixtureReference) {
    for (const char* model : {"timm-vit-tiny", "hf-vit-tiny"}) {
        const NpyArray attention = readNpy(kData + "/models/" + model + "/expected_attention.npy");
        const NpyArray expected = readNpy(kData + "/models/" + model + "/expected_rollout.npy");
        ASSERT_EQ(attention.shape, (std::vector<std::int64_t>{3, 3, 17, 17}));
        const AttentionStack stack = stackFromArray(attention.toFloats(), 3, 3, 17,
                                                    TokenLayout::forVisionTransformer(true, false, 0, 4, 4));
        const std::vector<float> rollout = rolloutMatrix(stack, HeadSelection::parse("mean"));
        const std::vector<float> reference = expected.toFloats();
        ASSERT_EQ(rollout.size(), reference.size());
        for (std::size_t i = 0; i < rollout.size(); ++i) EXPECT_NEAR(rollout[i], reference[i], 1e-5) << model << " at " << i;
        // The map is the CLS row over the 4x4 grid.
        const cv::Mat map = rolloutMap(stack, HeadSelection::parse("mean"), 0.0f, 0);
        ASSERT_EQ(map.size(), cv::Size(4, 4));
        for (int p = 0; p < 16; ++p) EXPECT_NEAR(map.at<float>(p / 4, p % 4), reference[std::size_t(1 + p)], 1e-5);
    }
}

TEST(Rollout, MatchesBruteForceForEveryFusionAndDiscard) {
    const int layers = 3, heads = 4;
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 2, 3, 3);  // 12 tokens
    const int n = layout.size();
    const std::vector<float> values = randomAttention(layers, heads, n, 11);
    const AttentionStack stack = stackFromArray(values, layers, heads, n, layout);
    const std::pair<const char*, HeadFusion> fusions[] = {
        {"mean", HeadFusion::Mean}, {"max", HeadFusion::Max}, {"min", HeadFusion::Min}};
    for (const auto& [name, fusion] : fusions) {
        for (const double discard : {0.0, 0.3, 0.9}) {
            const Matrix expected = bruteRollout(values, layers, heads, n, fusion, discard, 0);
            const std::vector<float> got = rolloutMatrix(stack, HeadSelection::parse(name), float(discard));
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < n; ++j)
                    ASSERT_NEAR(got[std::size_t(i * n + j)], expected[std::size_t(i)][std::size_t(j)], 1e-5)
                        << name << " discard " << discard << " at " << i << "," << j;
            // Rows of a rollout stay stochastic.
            for (int i = 0; i < n; ++i) {
                double sum = 0.0;
                for (int j = 0; j < n; ++j) sum += got[std::size_t(i * n + j)];
                EXPECT_NEAR(sum, 1.0, 1e-5);
            }
        }
    }
}

TEST(Rollout, DiscardSparesTheClsColumn) {
    // Make the CLS column the smallest weights: a large discard must not remove them.
    const int n = 5;
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
    std::vector<float> values(std::size_t(n) * n);
    for (int q = 0; q < n; ++q) {
        for (int k = 0; k < n; ++k) values[std::size_t(q * n + k)] = k == 0 ? 0.01f : 0.2475f;
    }
    const AttentionStack stack = stackFromArray(values, 1, 1, n, layout);
    const std::vector<float> rollout = rolloutMatrix(stack, HeadSelection::parse("mean"), 0.5f);
    for (int q = 1; q < n; ++q) EXPECT_GT(rollout[std::size_t(q * n)], 0.0f) << "row " << q;
}

TEST(RawAttention, IsTheQueryRowOverThePatchGrid) {
    const int layers = 2, heads = 3;
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, true, 1, 2, 3);  // CLS DIST REG + 6
    const int n = layout.size();
    ASSERT_EQ(n, 9);
    const std::vector<float> values = randomAttention(layers, heads, n, 5);
    const AttentionStack stack = stackFromArray(values, layers, heads, n, layout);
    auto at = [&](int l, int h, int q, int k) { return values[((std::size_t(l) * heads + h) * n + q) * n + k]; };
    for (const int query : {0, 1, 4}) {
        const cv::Mat single = rawAttentionMap(stack, 1, HeadSelection::parse("2"), query);
        const cv::Mat mean = rawAttentionMap(stack, 0, HeadSelection::parse("mean"), query);
        const cv::Mat high = rawAttentionMap(stack, 0, HeadSelection::parse("max"), query);
        ASSERT_EQ(single.size(), cv::Size(3, 2));
        for (int r = 0; r < 2; ++r) {
            for (int c = 0; c < 3; ++c) {
                const int key = 3 + r * 3 + c;  // patches follow the three prefix tokens
                EXPECT_FLOAT_EQ(single.at<float>(r, c), at(1, 2, query, key));
                EXPECT_NEAR(mean.at<float>(r, c), (at(0, 0, query, key) + at(0, 1, query, key) + at(0, 2, query, key)) / 3.0f, 1e-7);
                EXPECT_FLOAT_EQ(high.at<float>(r, c), std::max({at(0, 0, query, key), at(0, 1, query, key), at(0, 2, query, key)}));
            }
        }
    }
    EXPECT_THROW(rawAttentionMap(stack, 1, HeadSelection::parse("0"), n), Error);
    EXPECT_THROW(rawAttentionMap(stack, 5, HeadSelection::parse("0"), 0), Error);
    EXPECT_THROW(rawAttentionMap(stack, 1, HeadSelection::parse("7"), 0), Error);
}

TEST(AttentionMaps, Float16StorageIsCloseToFloat32) {
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
    const std::vector<float> values = randomAttention(1, 2, 5, 3);
    const AttentionStack exact = stackFromArray(values, 1, 2, 5, layout);
    AttentionStack half = exact;
    AttentionLayer& layer = half.layers[0];
    layer.precision = AttentionPrecision::Float16;
    for (const float v : layer.floatValues) layer.halfValues.push_back(floatToHalf(v));
    layer.floatValues.clear();
    const cv::Mat a = rawAttentionMap(exact, 0, HeadSelection::parse("mean"), 0);
    const cv::Mat b = rawAttentionMap(half, 0, HeadSelection::parse("mean"), 0);
    EXPECT_LT(cv::norm(a, b, cv::NORM_INF), 1e-3);
    EXPECT_GT(cv::norm(b), 0.0);
}

TEST(AttentionMaps, OptionsSayWhatToCapture) {
    AttentionMapOptions raw;
    raw.heads = HeadSelection::parse("3");
    CaptureRequest request = captureForMap(raw, 12);
    EXPECT_EQ(request.layers, std::vector<int>{11});
    EXPECT_EQ(request.heads, std::vector<int>{3});
    AttentionMapOptions rollout;
    rollout.method = "rollout";
    request = captureForMap(rollout, 12);
    EXPECT_TRUE(request.layers.empty());
    EXPECT_TRUE(request.heads.empty());
    AttentionMapOptions bad;
    bad.method = "flow";
    EXPECT_THROW(captureForMap(bad, 12), Error);
}

TEST(AttentionMaps, HeadSelectionParsing) {
    EXPECT_EQ(HeadSelection::parse("mean").fusion, HeadFusion::Mean);
    EXPECT_EQ(HeadSelection::parse("max").fusion, HeadFusion::Max);
    EXPECT_EQ(HeadSelection::parse("min").fusion, HeadFusion::Min);
    EXPECT_EQ(HeadSelection::parse("4").head, 4);
    EXPECT_EQ(HeadSelection::parse("4").toString(), "4");
    for (const char* bad : {"", "-1", "avg", "3x", "1.5"}) EXPECT_THROW(HeadSelection::parse(bad), Error) << bad;
}

TEST(PointingGame, HitsMissesAndTolerance) {
    cv::Mat1b mask(64, 64, std::uint8_t(0));
    mask(cv::Rect(40, 40, 10, 10)).setTo(255);
    cv::Mat1f map(8, 8, 0.0f);
    map(5, 5) = 1.0f;  // cell covering pixels 40..47: inside the mask
    EXPECT_TRUE(pointingHit(map, mask, 0.0));
    cv::Mat1f off(8, 8, 0.0f);
    off(0, 0) = 1.0f;  // top-left corner: ~50 px from the mask
    EXPECT_FALSE(pointingHit(off, mask, 15.0));
    EXPECT_TRUE(pointingHit(off, mask, 60.0));
    const cv::Point pointed = pointedPixel(map, mask.size());
    EXPECT_GE(pointed.x, 36);
    EXPECT_LE(pointed.x, 47);

    PointingGame game(3);
    game.add(0, true);
    game.add(0, false);
    game.add(2, true);
    EXPECT_EQ(game.count(), 3);
    EXPECT_DOUBLE_EQ(game.meanAccuracy(), (0.5 + 1.0) / 2.0);  // class 1 never occurred
    EXPECT_DOUBLE_EQ(game.overallAccuracy(), 2.0 / 3.0);
}

}  // namespace
