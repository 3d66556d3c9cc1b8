// `fovea eval`: explanation methods scored on generated shapes-in-clutter scenes with ground
// truth: pointing game (strict and 15 px), energy-based pointing game, RISE deletion and
// insertion AUC; mean and 95% confidence interval per method, and time per image.
#pragma once

#include "core/data/shapes_scene.h"
#include "core/model/model.h"
#include "core/util/progress.h"

#include <cstdint>

#include <opencv2/core/mat.hpp>
#include <functional>
#include <string>
#include <vector>

namespace fovea {

struct EvalOptions {
    std::vector<std::string> methods = {"raw", "rollout", "gradient-rollout", "chefer"};
    int scenes = 500;
    std::uint64_t firstSeed = 1000000000ULL + 500000;  // held out from training, apart from the report's
    int pixelsPerStep = 64;                              // deletion / insertion granularity
    SceneOptions scene;
};

struct MeanCI {
    double mean = 0.0;
    double halfWidth = 0.0;  // 1.96 standard errors
    int count = 0;
};
MeanCI meanWithCI(const std::vector<double>& values);

struct EvalRow {
    std::string method;
    MeanCI pointingStrict, pointing15, energy, deletion, insertion;
    double msPerImage = 0.0;  // the method itself: capture, backward if any, the map
};

// Calls `rowDone` after each method so a caller can write complete rows as they come.
std::vector<EvalRow> evaluateMethods(Model& model, const EvalOptions& options, Progress& progress,
                                     const std::function<void(const EvalRow&)>& rowDone = {});

std::string leaderboardCsv(const std::vector<EvalRow>& rows);
// A grouped bar chart (one group per metric, one bar per method, 95% CI whiskers), as SVG text
// and as a PNG image drawn from the same layout.
std::string leaderboardSvg(const std::vector<EvalRow>& rows);
cv::Mat leaderboardPlot(const std::vector<EvalRow>& rows);
std::string leaderboardMarkdown(const std::vector<EvalRow>& rows, const std::string& modelName, const EvalOptions& options);

}  // namespace fovea
