// TransformerLens head-pattern scores on planted matrices, the repeated-span training data, and
// the induction-gpt trainer's determinism. (The check that a trained induction-gpt has a
// previous-token and an induction head waits for a model that has them: see
// docs/language_models.md.)
#include "core/data/token_sequences.h"
#include "core/explain/head_patterns.h"
#include "core/train/train_induction.h"
#include "text_test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace fovea;

namespace {

TEST(HeadPatterns, PlantedHeadsScoreAsDefined) {
    const std::vector<std::int64_t> ids = {9, 1, 2, 3, 1, 2, 3};  // BOS + r + r, r = 1 2 3
    const int n = 7;
    std::vector<float> previous(n * n, 0.0f), induction(n * n, 0.0f);
    for (int q = 0; q < n; ++q) {
        previous[std::size_t(q * n + std::max(0, q - 1))] = 1.0f;
        // Induction: from the second copy (q >= 4) to the token after the first copy (q - 3 + 1).
        induction[std::size_t(q * n + (q >= 4 ? q - 2 : 0))] = 1.0f;
    }
    EXPECT_NEAR(headPatternScore(previous, headDetectionPattern(HeadPattern::PreviousToken, ids), n), 6.0 / 7.0, 1e-6);
    EXPECT_NEAR(headPatternScore(previous, headDetectionPattern(HeadPattern::PreviousToken, ids), n, true), 1.0, 1e-6);
    EXPECT_NEAR(headPatternScore(induction, headDetectionPattern(HeadPattern::Induction, ids), n), 3.0 / 7.0, 1e-6);
    EXPECT_NEAR(headPatternScore(induction, headDetectionPattern(HeadPattern::Induction, ids), n, true), 1.0, 1e-6);
    EXPECT_NEAR(headPatternScore(previous, headDetectionPattern(HeadPattern::Induction, ids), n, true), 0.0, 1e-6);
    // Duplicate-token pattern: position 4 (token 1) sees position 1.
    EXPECT_EQ(headDetectionPattern(HeadPattern::DuplicateToken, ids)[std::size_t(4 * n + 1)], 1.0f);
}

TEST(TokenSequences, CopiedPositionsRepeatAnEarlierSpan) {
    std::mt19937_64 random(3);
    for (int i = 0; i < 50; ++i) {
        const RepeatedSpanSequence s = repeatedSpanSequence(64, 63, 63, 4, 24, random);
        ASSERT_EQ(s.ids.size(), 64u);
        EXPECT_EQ(s.ids[0], 63);
        int copied = 0;
        for (int t = 1; t < 64; ++t) {
            EXPECT_LT(s.ids[std::size_t(t)], 63);
            if (!s.copied[std::size_t(t)]) continue;
            ++copied;
            // Some earlier position holds the previous token followed by this one.
            bool found = false;
            for (int k = 1; k + 1 < t && !found; ++k) found = s.ids[std::size_t(k)] == s.ids[std::size_t(t - 1)] && s.ids[std::size_t(k + 1)] == s.ids[std::size_t(t)];
            EXPECT_TRUE(found) << "position " << t;
        }
        EXPECT_GE(copied, 3);
    }
}

TEST(InductionTraining, IsDeterministicInTheSeed) {
    InductionTrainingOptions options;
    options.steps = 3;
    options.batchSize = 4;
    options.threads = 1;
    options.heldOutSequences = 4;
    options.probeSequences = 1;
    NullProgress progress;
    std::ostringstream log;
    std::string bytes[2];
    for (int run = 0; run < 2; ++run) {
        options.outputDir = (std::filesystem::temp_directory_path() / ("fovea_induction_" + std::to_string(run))).string();
        trainInductionGpt(options, progress, log);
        std::ifstream in(options.outputDir + "/model.safetensors", std::ios::binary);
        bytes[run].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        EXPECT_TRUE(std::filesystem::exists(options.outputDir + "/REPORT.md"));
    }
    EXPECT_FALSE(bytes[0].empty());
    EXPECT_EQ(bytes[0], bytes[1]);
}

}  // namespace
