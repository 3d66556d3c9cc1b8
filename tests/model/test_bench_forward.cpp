// fovea bench forward's bookkeeping (it asserts no time): the FLOP count against a count by
// hand from the ViT-Ti/16 shapes, and a batch that really runs and stores every image.
#include "core/bench/bench_forward.h"

#include <gtest/gtest.h>

using namespace fovea;

TEST(BenchForward, BatchOfTwoCountsTwiceTheFlopsAndStoresBothImages) {
    ForwardBenchOptions options;
    options.architecture = "vit_tiny_patch16_224";
    options.runs = 1;
    options.warmupRuns = 0;
    options.batch = 2;
    const ForwardBenchResult result = benchForward(options);
    EXPECT_EQ(result.batch, 2);
    EXPECT_EQ(result.tokens, 197);
    // ViT-Ti/16: 12 blocks, width 192, MLP 768, 197 tokens, 196 patches of 3 x 16 x 16, 1,000
    // classes; per block qkv 2*197*192*576, scores and context 2 * 2*197*197*192, projection
    // 2*197*192*192, MLP 2 * 2*197*192*768.
    const double block = 2.0 * 197 * 192 * 576 + 4.0 * 197 * 197 * 192 + 2.0 * 197 * 192 * 192 +
                         4.0 * 197 * 192 * 768;
    const double perImage = 12 * block + 2.0 * 196 * 768 * 192 + 2.0 * 192 * 1000;
    EXPECT_NEAR(result.gflop, 2 * perImage / 1e9, 1e-9);
    // Both images' attention, float16: 2 x 12 layers x 3 heads x 197^2 x 2 bytes.
    EXPECT_NEAR(result.captureMegabytes, 2.0 * 12 * 3 * 197 * 197 * 2 / (1024.0 * 1024.0), 1e-9);
    EXPECT_GT(result.forward.median, 0.0);
    EXPECT_GT(result.matmul.median, 0.0);
    EXPECT_GT(result.ratioToMatmul, 0.0);
}
