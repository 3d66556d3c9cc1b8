// Token-pattern scores of attention heads, as TransformerLens's head detector defines them
// (transformer_lens/head_detector.py): how much of a head's attention lands on the positions a
// pattern names. Previous-token heads attend from i to i-1; duplicate-token heads to earlier
// copies of the same token; induction heads to the token after an earlier copy (on a random
// sequence repeated twice, from i to i - n + 1). Torch-free; works on captured attention.
//
//     std::vector<std::int64_t> ids = repeatedRandomSequence(/*half*/ 20, vocab, seed, bos);
//     ModelOutputs out = model->runText(textInputFromIds(ids, spec), CaptureRequest{});
//     HeadPatternScores scores = scoreHeadPatterns(out.attention, ids);
//     float best = scores.induction[layer][head];
//
// Reference: Olsson et al., "In-context Learning and Induction Heads" (2022); TransformerLens
// head detector (Nanda & Bloom).
#pragma once

#include "core/model/attention_stack.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

enum class HeadPattern { PreviousToken, DuplicateToken, Induction };

// pattern[q * T + k] in {0, 1}: previous token (k = q - 1), duplicate (ids[k] == ids[q], k < q),
// induction (ids[k - 1] == ids[q], k - 1 < q, k >= 1): TransformerLens's detection patterns.
std::vector<float> headDetectionPattern(HeadPattern pattern, const std::vector<std::int64_t>& ids);

// TransformerLens's "mul" score: Σ A ⊙ P / Σ A over the whole matrix (rows of a softmax sum to
// one, so this is the mean over all query rows of the mass on pattern positions). A row with no
// pattern position counts as zero: the induction score of a sequence repeated twice is at most
// about 1/2. `patternRowsOnly` averages over the rows that have a pattern position instead (then
// a perfect head scores 1); both are reported by scoreHeadPatterns.
float headPatternScore(const std::vector<float>& attention, const std::vector<float>& pattern, int tokens,
                       bool patternRowsOnly = false);

struct HeadPatternScores {
    // [layer][head] over the captured layers (in stack order) and heads (model index order).
    std::vector<int> layers;
    std::vector<std::vector<float>> previousToken, duplicateToken, induction;       // TransformerLens "mul"
    std::vector<std::vector<float>> previousTokenRows, inductionRows;               // pattern rows only
};
HeadPatternScores scoreHeadPatterns(const AttentionStack& stack, const std::vector<std::int64_t>& ids);

// [bos] + r + r with r `half` tokens drawn uniformly from 0..vocab-1 except bos (bos < 0: no
// BOS), deterministic in the seed: the probe TransformerLens uses for induction heads.
std::vector<std::int64_t> repeatedRandomSequence(int half, int vocab, std::uint64_t seed, std::int64_t bos);

}  // namespace fovea
