// Planted attention heads: attention matrices with a known pattern (local, row, sink, induction,
// ...), for the tests of the detectors and clustering and for `fovea bench heads`, which needs
// stacks of realistic size without a model. Each row is a distribution over the keys the query
// may see; `noise` mixes in a random distribution (0: the pure pattern).
//
//     TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 14, 14);
//     AttentionStack stack = plantedStack(layout, {{PlantedPattern::Local, PlantedPattern::Row}},
//                                         /*ids*/ {}, /*causal*/ false, /*noise*/ 0.05, /*seed*/ 1);
#pragma once

#include "core/model/attention_stack.h"

#include <cstdint>
#include <vector>

namespace fovea {

enum class PlantedPattern {
    Local,           // grid: Gaussian blob (sigma 1 patch) around the query patch; text: the 4 previous tokens
    Global,          // grid: the 12 patches farthest from the query
    Sink,            // 0.8 on one patch (grid: row rows/2+1, col cols/4) or on position 0 (text)
    ClsCollector,    // 0.7 on CLS
    Self,            // 0.9 on the query itself
    Row,             // the other patches of the query's row
    Column,          // the other patches of the query's column
    Uniform,         // every visible key alike
    PreviousToken,   // 0.9 on q - 1
    Induction,       // 0.9 on the token after an earlier copy of the query's token (ids), else uniform
    DuplicateToken,  // 0.9 on an earlier copy of the query's token (ids), else uniform
};

// One head, tokens x tokens row-major; rows of queries that the pattern does not cover (CLS in a
// grid pattern) are uniform.
std::vector<float> plantedHeadMatrix(PlantedPattern pattern, const TokenLayout& layout, const std::vector<std::int64_t>& ids,
                                     bool causal, double noise, std::uint64_t seed);

// patterns[layer][head]; float32 storage unless half is true.
AttentionStack plantedStack(const TokenLayout& layout, const std::vector<std::vector<PlantedPattern>>& patterns,
                            const std::vector<std::int64_t>& ids, bool causal, double noise, std::uint64_t seed,
                            bool half = false);

// A text layout of ids.size() TEXT tokens (for tests and benchmarks without a tokenizer).
TokenLayout plainTextLayout(const std::vector<std::int64_t>& ids);

}  // namespace fovea
