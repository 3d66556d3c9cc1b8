// Training of Fovea's second demo model, `induction-gpt`: a 2-layer GPT-2 (Hugging Face layout)
// trained on random token sequences with repeated spans (core/data/token_sequences.h), where
// the only way to predict a span's second copy is to find the first: the pressure under which
// previous-token and induction heads form (Olsson et al., "In-context Learning and Induction
// Heads", 2022). Content tokens are distinct within a sequence apart from the copies, so each
// predictable position has one answer, and copies have random lengths and offsets, so no fixed
// positional offset predicts them; the loss counts only the predictable positions. The phase
// change (copy accuracy from near 0 to near 1, previous-token heads in layer 0 and induction
// heads in layer 1) comes after about 1,000 steps. Deterministic from the seed at a fixed thread count;
// CPU only.
//
//     InductionTrainingOptions options;   // the settings of the last training attempt (see REPORT)
//     InductionTrainingReport report = trainInductionGpt(options, progress, std::cout);
//     // report.bestPreviousToken, report.bestInduction: the TransformerLens head scores
//
// Writes model.safetensors + config.json + training_report.json + REPORT.md.
#pragma once

#include "core/util/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>

namespace fovea {

struct InductionTrainingOptions {
    std::string outputDir = "resources/models/induction-gpt";
    std::uint64_t seed = 2;  // seeds 1 and 2 form clean heads; 20261206 settles in a diffuse solution (docs/language_models.md)
    int steps = 5000;
    int batchSize = 32;
    double learningRate = 1e-3;  // constant after warm-up
    double weightDecay = 0.01;
    int warmupSteps = 50;
    int threads = 1;  // the shipped model was trained on 1 thread (results depend slightly on the count)
    int vocab = 256;       // the last id is BOS / <|endoftext|>; 0..vocab-2 are content tokens
    int context = 64;      // sequence length (and position embeddings)
    int width = 64;
    int layers = 2;
    int heads = 4;
    int minSpan = 2, maxSpan = 16, maxFresh = 16;  // the probe's span (probeHalf) must be within reach
    double copyShare = 0.5;
    int heldOutSequences = 256;  // copy accuracy
    int probeSequences = 32;     // head scores: BOS + r + r, r of probeHalf tokens
    int probeHalf = 12;
};

// Held-out sequences and probes draw from seeds at this offset and above.
constexpr std::uint64_t kInductionHeldOutSeed = 7000000000ULL;

struct InductionTrainingReport {
    nlohmann::json json;
    double seconds = 0.0;
    double copyAccuracy = 0.0;    // top-1 on the predictable positions of held-out sequences
    double randomAccuracy = 0.0;  // top-1 on the other positions (fresh tokens: not predictable)
    float bestPreviousToken = 0.0f, bestInduction = 0.0f;  // TransformerLens "mul" scores
    int previousLayer = -1, previousHead = -1, inductionLayer = -1, inductionHead = -1;
};

InductionTrainingReport trainInductionGpt(const InductionTrainingOptions& options, Progress& progress, std::ostream& log);

// Head scores of a saved model on `count` fresh probes (BOS + r + r): mean over probes, per
// layer and head, as JSON {previous_token, induction, duplicate_token, *_pattern_rows}.
nlohmann::json probeInductionHeads(const std::string& modelPath, int count, int half, std::uint64_t seed);

}  // namespace fovea
