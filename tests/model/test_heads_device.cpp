// The head features' device pass (LibTorch tensors; run here on the CPU device) against the
// hand-written CPU pass, which test_row_kernels and test_heads check against brute force: two
// independent implementations of the same row sums must give the same table -- every feature,
// distance profile and offset pattern, mean and spread -- on float16 image grids with CLS and
// registers, on float32 causal text with padding and token ids, and on rows with many equal
// values. Bad input gets an error, not a wrong table.
#include "core/heads/head_features.h"
#include "core/heads/head_features_device.h"
#include "core/heads/planted_heads.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fovea;

// Within float rounding of each other (the passes sum in different orders, and the device takes
// each row's entropy as -sum p ln p where the CPU pass uses ln s - (1/s) sum a ln a).
void expectSameTables(const HeadFeatureTable& cpu, const HeadFeatureTable& device,
                      const std::string& where) {
    ASSERT_EQ(cpu.heads.size(), device.heads.size()) << where;
    ASSERT_EQ(cpu.inputs, device.inputs) << where;
    for (std::size_t h = 0; h < cpu.heads.size(); ++h) {
        const HeadSummary& a = cpu.heads[h];
        const HeadSummary& b = device.heads[h];
        const std::string head =
            where + " L" + std::to_string(a.layer) + " H" + std::to_string(a.head);
        for (HeadFeature f : allHeadFeatures()) {
            for (const auto& [x, y, kind] : {std::make_tuple(a.mean[f], b.mean[f], "mean"),
                                             std::make_tuple(a.spread[f], b.spread[f], "spread")}) {
                if (std::isnan(x)) {
                    EXPECT_TRUE(std::isnan(y)) << head << " " << headFeatureName(f) << " " << kind;
                    continue;
                }
                // Sparsity counts keys: 2e-5 relative is far below one key in one row.
                EXPECT_NEAR(x, y, 2e-5 * std::max(1.0f, std::abs(x)))
                    << head << " " << headFeatureName(f) << " " << kind;
            }
        }
        ASSERT_EQ(a.mean.distanceProfile.size(), b.mean.distanceProfile.size()) << head;
        for (std::size_t i = 0; i < a.mean.distanceProfile.size(); ++i)
            EXPECT_NEAR(a.mean.distanceProfile[i], b.mean.distanceProfile[i], 1e-6) << head;
        ASSERT_EQ(a.mean.offsetPattern.size(), b.mean.offsetPattern.size()) << head;
        for (std::size_t i = 0; i < a.mean.offsetPattern.size(); ++i) {
            EXPECT_NEAR(a.mean.offsetPattern[i], b.mean.offsetPattern[i], 1e-6) << head;
            EXPECT_NEAR(a.spread.offsetPattern[i], b.spread.offsetPattern[i], 1e-6) << head;
        }
    }
}

struct Input {
    AttentionStack stack;
    std::vector<std::int64_t> ids;
};

void compare(const std::vector<Input>& inputs, const std::string& where) {
    HeadFeatureOptions options;
    options.patchSizePixels = 16.0;
    HeadFeatureAccumulator cpu(options), device(options);
    std::mt19937 random(17);
    std::uniform_real_distribution<float> norm(0.5f, 4.0f);
    for (const Input& input : inputs) {
        // Token norms for AttendedNorm (any positive values: both passes read the same ones).
        std::vector<std::vector<float>> norms(input.stack.layers.size());
        for (auto& layer : norms) {
            for (int t = 0; t < input.stack.tokens.size(); ++t) layer.push_back(norm(random));
        }
        cpu.add(input.stack, input.ids, norms);
        device.addMeasured(input.stack, measureHeadRows(input.stack, "cpu", options, input.ids),
                           input.ids, norms);
    }
    expectSameTables(cpu.table(), device.table(), where);
}

std::vector<std::vector<PlantedPattern>> everyVisionKind(int layers, int heads) {
    const PlantedPattern kinds[] = {PlantedPattern::Local,  PlantedPattern::Global,
                                    PlantedPattern::Sink,   PlantedPattern::ClsCollector,
                                    PlantedPattern::Self,   PlantedPattern::Row,
                                    PlantedPattern::Column, PlantedPattern::Uniform};
    std::vector<std::vector<PlantedPattern>> patterns(static_cast<std::size_t>(layers));
    for (int l = 0; l < layers; ++l) {
        for (int h = 0; h < heads; ++h)
            patterns[std::size_t(l)].push_back(kinds[(l * heads + h) % 8]);
    }
    return patterns;
}

TEST(HeadFeaturesDevice, Float16GridWithClsAndRegistersMatchesTheCpuPass) {
    // 2 registers and CLS before a 7 x 7 grid; two inputs, so the spreads are compared too. 50
    // layers of 3 heads: the device pass's first chunk of 128 heads ends inside layer 42.
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 2, 7, 7);
    std::vector<Input> inputs;
    for (std::uint64_t seed : {5u, 6u})
        inputs.push_back(
            {plantedStack(layout, everyVisionKind(50, 3), {}, false, 0.1, seed, true), {}});
    compare(inputs, "grid");
}

TEST(HeadFeaturesDevice, CausalPaddedTextWithIdsMatchesTheCpuPass) {
    // Repeated token ids (duplicate and induction keys), right padding, float32.
    std::vector<std::int64_t> ids;
    std::mt19937 random(3);
    std::uniform_int_distribution<int> token(1, 9);
    for (int i = 0; i < 30; ++i) ids.push_back(token(random));
    const TokenLayout layout = plainTextLayout(ids);
    const std::vector<std::vector<PlantedPattern>> patterns = {
        {PlantedPattern::PreviousToken, PlantedPattern::Induction, PlantedPattern::DuplicateToken},
        {PlantedPattern::Uniform, PlantedPattern::Sink, PlantedPattern::Local}};
    Input input{plantedStack(layout, patterns, ids, true, 0.2, 9, false), ids};
    input.stack.keyMask.assign(ids.size(), 1);
    for (std::size_t t = 26; t < ids.size(); ++t) input.stack.keyMask[t] = 0;
    compare({input}, "text");
}

TEST(HeadFeaturesDevice, RowsOfFewLevelsMatchTheCpuPass) {
    // Many equal values at the sparsity's crossing, and rows of zeros (left out by both).
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 5, 5);
    const int n = layout.size();
    Input input{plantedStack(layout, {{PlantedPattern::Uniform, PlantedPattern::Uniform}}, {},
                             false, 0.0, 1, true),
                {}};
    std::mt19937 random(7);
    std::uniform_int_distribution<int> level(0, 3);
    AttentionLayer& layer = input.stack.layers[0];
    for (std::size_t i = 0; i < layer.halfValues.size(); ++i) {
        const int q = int(i / std::size_t(n)) % n;
        const float v = q == 4 ? 0.0f : float(level(random)) / (2.0f * n);
        layer.halfValues[i] = floatToHalf(v);
    }
    compare({input}, "few levels");
}

TEST(HeadFeaturesDevice, BadInputGetsAnError) {
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 3, 3);
    AttentionStack stack = plantedStack(layout, {{PlantedPattern::Local}}, {}, false, 0.1, 1);
    EXPECT_THROW(measureHeadRows(stack, "tpu"), Error);
    EXPECT_THROW(measureHeadRows(stack, "cpu", {}, {1, 2, 3}), Error);  // ids of another length
    HeadFeatureAccumulator features;
    std::vector<HeadRowSums> sums = measureHeadRows(stack, "cpu");
    sums[0].offsetMass.pop_back();
    EXPECT_THROW(features.addMeasured(stack, sums), Error);
    EXPECT_THROW(features.addMeasured(stack, {}), Error);
    EXPECT_EQ(features.inputs(), 0);
    stack.layers[0].floatValues.pop_back();  // truncated values
    EXPECT_THROW(measureHeadRows(stack, "cpu"), Error);
}

}  // namespace
