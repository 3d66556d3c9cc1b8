// Helpers the language-model tests share: fixture paths, array comparison, and a temporary
// copy of a fixture folder whose config.json a test may edit.
#pragma once

#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/model/attention_stack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace fovea::testing_text {

inline const std::string kModels = FOVEA_TEST_DATA_DIR "/models/";

inline float maxAbsDifference(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    float worst = 0.0f;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    if (a.size() != b.size()) worst = INFINITY;
    return worst;
}

// Every captured layer of a stack, [L, H, N, N] flattened, against a fixture array.
inline float attentionError(const AttentionStack& stack, const std::string& expectedPath) {
    std::vector<float> all;
    for (const AttentionLayer& layer : stack.layers) {
        const std::vector<float> values = layer.allValues();
        all.insert(all.end(), values.begin(), values.end());
    }
    return maxAbsDifference(all, readNpy(expectedPath).toFloats());
}

// Prints and records a match error so the numbers reach the test log (and the issue note).
inline void reportError(const std::string& what, float error) {
    std::printf("[ match ] %-48s max abs error %.3g\n", what.c_str(), double(error));
    ::testing::Test::RecordProperty(what, std::to_string(error));
}

// A writable copy of a fixture folder in the test's temporary directory.
inline std::string copyFixture(const std::string& name, const std::string& as) {
    namespace fs = std::filesystem;
    const fs::path target = fs::temp_directory_path() / ("fovea_lm_" + as);
    fs::remove_all(target);
    fs::copy(kModels + name, target, fs::copy_options::recursive);
    for (const auto& entry : fs::recursive_directory_iterator(target)) {
        fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
    return target.string();
}

}  // namespace fovea::testing_text
