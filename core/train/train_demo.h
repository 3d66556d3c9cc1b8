// Training of Fovea's shipped demo model, `shapes-vit`: a small ViT that names the one large
// target shape in a cluttered scene (core/data/shapes_scene.h). Everything is deterministic
// from the seed, runs on the CPU with LibTorch, and writes a loadable timm-layout checkpoint:
// model.safetensors + config.json + training_report.json + REPORT.md.
//
//     DemoTrainingOptions options;        // the settings the committed model was trained with
//     options.outputDir = "resources/models/shapes-vit";
//     DemoTrainingReport report = trainShapesVit(options, progress, std::cout);
//
// The report includes held-out accuracy and the pointing-game accuracy of last-layer CLS
// attention and of rollout against the target masks: the demo must show attention that means
// something, and these numbers say how much.
#pragma once

#include "core/data/shapes_scene.h"
#include "core/util/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>

namespace fovea {

struct DemoTrainingOptions {
    std::string outputDir = "resources/models/shapes-vit";
    std::uint64_t seed = 20261122;
    int steps = 5000;
    int batchSize = 64;
    double learningRate = 1e-3;
    double weightDecay = 0.05;
    int warmupSteps = 250;
    int threads = 0;            // 0: every available core
    int heldOutScenes = 2000;   // accuracy
    int pointingScenes = 500;   // pointing game
    int embedDim = 96;
    int depth = 4;
    int numHeads = 4;
    int patchSize = 8;
    int mlpRatio = 4;
    SceneOptions scene;
};

// Held-out scenes use seeds from this offset on; training never reaches it.
constexpr std::uint64_t kHeldOutSeedOffset = 1000000000ULL;

struct DemoTrainingReport {
    nlohmann::json json;  // everything below and the options, as written to training_report.json
    double heldOutAccuracy = 0.0;
    double pointingClsLastLayer = 0.0;
    double pointingRollout = 0.0;
    double seconds = 0.0;
};

// The timm pretrained_cfg the demo model is trained and run with (mean/std 0.5, no resizing).
nlohmann::json demoPretrainedConfig(int size);

DemoTrainingReport trainShapesVit(const DemoTrainingOptions& options, Progress& progress, std::ostream& log);

// Evaluation used by the report (and by `fovea eval`-style checks): accuracy on held-out scenes,
// and pointing game of CLS attention (last layer, head mean) and rollout against target masks.
nlohmann::json evaluateShapesModel(const std::string& modelPath, int accuracyScenes, int pointingScenes,
                                   const SceneOptions& scene, Progress& progress);

}  // namespace fovea
