// Procedural token sequences for the induction demo model: random tokens in which spans repeat,
// so that a model can only predict the second copy of a span by finding the first one (what an
// induction head does). Deterministic in the seed; torch-free.
//
//     std::mt19937_64 random(seed);
//     RepeatedSpanSequence s = repeatedSpanSequence(64, 63, /*bos*/ 63, 4, 24, random);
//     // s.ids[0] == 63; s.copied[i]: position i repeats an earlier span and is predictable
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace fovea {

struct RepeatedSpanSequence {
    std::vector<std::int64_t> ids;
    // copied[i]: ids[i] is part of a span's second copy and is not the span's first token, so
    // ids[i] can be predicted from the first copy (the positions induction accuracy counts).
    std::vector<std::uint8_t> copied;
};

// `length` tokens: BOS (when bos >= 0), then tokens drawn uniformly from 0..randomVocab-1, in
// which one span of minSpan..maxSpan tokens is copied to a later position. With probability
// backToBack the copy follows the span at once (r r, the probe TransformerLens uses, after a
// random prefix); otherwise both copies sit anywhere, random tokens around them.
RepeatedSpanSequence repeatedSpanSequence(int length, int randomVocab, std::int64_t bos, int minSpan, int maxSpan,
                                          std::mt19937_64& random, double backToBack = 0.5);

}  // namespace fovea
