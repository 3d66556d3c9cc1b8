// Model attention against human gaze: an explanation method's map over a stimulus image (any
// method of the explainer registry), `fovea gaze eval` (saliency metrics per stimulus and their
// mean, with the inter-observer baseline), scanpaths from a model, and the visual-search report
// on shapes-in-clutter scenes (how many fixations a model's scanpath needs to land on the target).
//
//     std::unique_ptr<fovea::Model> model = fovea::openModel("resources/models/shapes-vit");
//     fovea::GazeDataset data = fovea::readGazeFile("fixations.json");
//     fovea::GazeEvalOptions options;                  // rollout, sigma 1/30 of the image side
//     auto rows = fovea::evaluateGaze(*model, data, "stimuli/", options, progress);
//     std::cout << fovea::gazeTableCsv(rows);
//
//     cv::Mat1f map = fovea::modelSaliencyMap(*model, bgr, {"chefer"});     // image-sized
//     fovea::Scanpath path = fovea::synthesizeScanpath(map, fovea::WtaOptions{});
#pragma once

#include "core/data/shapes_scene.h"
#include "core/explain/evaluate.h"
#include "core/explain/explainer.h"
#include "core/gaze/gaze_eval.h"
#include "core/gaze/scanpath_synthesis.h"
#include "core/model/model.h"
#include "core/util/progress.h"

#include <functional>
#include <string>
#include <vector>

namespace fovea {

struct GazeMapOptions {
    std::string method = "rollout";
    ExplainParams params;  // given values; the method's defaults fill the rest
    int target = -1;       // class explained; -1: the top-1
};

// The method's map for an 8-bit BGR image, over the image's own pixels (viewMapToImage).
cv::Mat1f modelSaliencyMap(Model& model, const cv::Mat& bgr, const GazeMapOptions& options,
                           Progress* progress = nullptr);

struct GazeEvalOptions {
    GazeMapOptions map;
    SaliencyOptions saliency;
    bool interObserver = true;  // also score the other subjects' fixations (needs >= 2 subjects)
    bool skipMissing = false;   // stimuli without an image file in the folder: skip, else throw
};

struct GazeEvalRow {
    std::string image;  // "mean" for the last row of a table
    int subjects = 0;
    SaliencyScores model;
    SaliencyScores interObserver;
    double msPerImage = 0.0;
};

// Every stimulus of `data` that has an image of that name in `stimuliDir`: fixations are fitted to
// the image (GazeDataset::fitToImage), those outside it dropped (counted in `dropped`), and the
// model's map scored against all fixations on it. sAUC draws from the fixations on the other
// stimuli. Throws naming the first missing image unless skipMissing.
std::vector<GazeEvalRow> evaluateGaze(Model& model, GazeDataset& data, const std::string& stimuliDir,
                                      const GazeEvalOptions& options, Progress& progress,
                                      const std::function<void(const GazeEvalRow&)>& rowDone = {},
                                      std::size_t* dropped = nullptr);
// The mean row of a table (NaN-aware mean of each metric over the rows).
GazeEvalRow meanGazeRow(const std::vector<GazeEvalRow>& rows);
// image,subjects,fixations,<metrics>,io_<metrics> with a final "mean" row.
std::string gazeTableCsv(const std::vector<GazeEvalRow>& rows);

// Visual search on shapes-in-clutter scenes: the target is known, so a scanpath is scored by the
// fixation that first lands on it.
struct VisualSearchOptions {
    std::vector<std::string> methods = {"raw", "rollout", "gradient-rollout", "chefer", "gradcam"};
    int scenes = 500;
    std::uint64_t firstSeed = 1000000000ULL + 500000;  // the held-out scenes of fovea eval
    SceneOptions scene;
    int maxFixations = 10;
    WtaOptions wta;           // radius 0: the longer side / 10
    bool objectLevel = true;  // also visit ground-truth objects and k-means segments by attention mass
    bool baselines = true;    // also a centre-bias map and a random map
};

struct VisualSearchRow {
    std::string method;          // explainer name, or "centre" / "random"
    std::string variant;         // "pixels", "objects-mass", "objects-mean", "segments-mass", "segments-mean"
    MeanCI fixations;            // fixations needed; a scanpath that never lands counts maxFixations + 1
    double firstFixation = 0.0;  // share of scenes found with the first fixation
    double foundWithin3 = 0.0;
    double found = 0.0;  // share found within maxFixations
    double msPerScene = 0.0;
};

std::vector<VisualSearchRow> evaluateVisualSearch(Model& model, const VisualSearchOptions& options, Progress& progress,
                                                  const std::function<void(const VisualSearchRow&)>& rowDone = {});
std::string visualSearchCsv(const std::vector<VisualSearchRow>& rows);
std::string visualSearchMarkdown(const std::vector<VisualSearchRow>& rows, const std::string& modelName,
                                 const VisualSearchOptions& options);

}  // namespace fovea
