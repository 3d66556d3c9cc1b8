// Procedural token sequences for the induction demo model: distinct random tokens in which
// short spans of earlier text are copied again, so that the next token inside a copy can be
// predicted only by finding the earlier occurrence of the current token and reading what came
// after it (what an induction head does). Deterministic in the seed; torch-free.
//
//     std::mt19937_64 random(seed);
//     CopiedSpanSequence s = copiedSpanSequence({.length = 64, .randomVocab = 255, .bos = 255}, random);
//     // s.ids[0] == 255; s.copied[i]: ids[i] repeats the token that followed ids[i-1] earlier
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace fovea {

struct CopiedSpanOptions {
    int length = 64;          // tokens, BOS included
    int randomVocab = 255;    // content ids 0..randomVocab-1; at least `length` so none repeats by chance
    std::int64_t bos = 255;   // first token (< 0: none)
    int minSpan = 2, maxSpan = 16;  // copied span lengths
    int maxFresh = 16;        // fresh text comes in runs of 2..maxFresh new tokens
    double copyShare = 0.5;   // chance that the next piece is a copy (once a run can be copied)
};

struct CopiedSpanSequence {
    std::vector<std::int64_t> ids;
    // copied[i]: ids[i] lies in a copy and is not the copy's first token, so it is the token that
    // followed ids[i-1] at an earlier position: the positions an induction head can predict.
    std::vector<std::uint8_t> copied;
};

// The sequence is built piece by piece: either a run of tokens never seen before in it, or a
// copy of minSpan..maxSpan consecutive tokens of one earlier fresh run. Content tokens are distinct apart from
// the copies, so every predictable position has exactly one answer, and the spans sit at random
// offsets with random lengths, so no fixed positional offset predicts them.
CopiedSpanSequence copiedSpanSequence(const CopiedSpanOptions& options, std::mt19937_64& random);

}  // namespace fovea
