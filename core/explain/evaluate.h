// `fovea eval`: explanation methods scored on images with ground truth (generated
// shapes-in-clutter scenes, or a folder of images with masks or boxes: eval_dataset.h): pointing
// game (strict and 15 px), energy-based pointing game, RISE deletion and insertion AUC and, when
// asked for, ROAD MoRF / LeRF; mean and 95% confidence interval per method, and time per image.
//
//     EvalOptions options;
//     options.dataFolder = "photos";   // photos/masks/<stem>.png; empty: generated scenes
//     options.road = true;
//     EvalDataset data = evalDataset(options, model->spec());   // checks the folder first
//     std::vector<EvalRow> rows = evaluateMethods(*model, data, options, progress, writeRow);
//     std::string table = leaderboardMarkdown(rows, "vit_base", options, data.describe());
#pragma once

#include "core/data/shapes_scene.h"
#include "core/explain/eval_dataset.h"
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
    // The images: generated scenes, unless dataFolder names a folder (eval_dataset.h).
    int scenes = 500;
    std::uint64_t firstSeed = 1000000000ULL + 500000;  // held out from training, apart from the report's
    SceneOptions scene;
    std::string dataFolder;
    std::string boxesFile;   // with dataFolder: boxes from this CSV instead of masks/
    int pixelsPerStep = 64;  // deletion / insertion granularity
    // ROAD (Rong et al. 2022): the mean score over these percentages of pixels removed, most
    // relevant first (MoRF) and least relevant first (LeRF). Each percentage costs two sparse
    // solves and two forward passes per image and method, so it is off unless asked for.
    bool road = false;
    std::vector<double> roadPercentages = {10, 30, 50, 70, 90};
};

// The images the options name; throws fovea::Error for a bad folder before any model work.
EvalDataset evalDataset(const EvalOptions& options, const ModelSpec& spec);

struct MeanCI {
    double mean = 0.0;
    double halfWidth = 0.0;  // 1.96 standard errors
    int count = 0;
};
MeanCI meanWithCI(const std::vector<double>& values);

struct EvalRow {
    std::string method;
    int images = 0;
    MeanCI pointingStrict, pointing15, energy, deletion, insertion;
    MeanCI roadMorf, roadLerf;  // count 0 when ROAD was not asked for
    double msPerImage = 0.0;    // the method itself: capture, backward if any, the map
};

// Every method's map of every image, resampled to one grid so that any two methods can be
// compared cell by cell (maps come at a patch grid, a CNN's feature grid or the input's pixels).
struct EvalMaps {
    cv::Size grid{16, 16};
    std::vector<std::string> methods;
    std::vector<std::vector<cv::Mat>> maps;  // [method][image], CV_32F grid-sized

    void add(const std::string& method, int image, const cv::Mat& map);
};

// Agreement of two methods over the images: Spearman rank correlation and the IoU of their
// top-k cells (k = topFraction of the grid), mean and 95% CI. Agreement is not correctness: two
// methods can agree and both be wrong.
struct AgreementCell {
    std::string first, second;
    MeanCI spearman, topK;
};
std::vector<AgreementCell> methodAgreement(const EvalMaps& maps, double topFraction = 0.1);
std::string agreementCsv(const std::vector<AgreementCell>& cells);
// Two method x method matrices (Spearman, top-k IoU) with the caveat spelled out.
std::string agreementMarkdown(const std::vector<AgreementCell>& cells, const EvalMaps& maps, double topFraction = 0.1);

// Calls `rowDone` after each method so a caller can write complete rows as they come. Scores
// use the probability of the class explained: the sample's label, or else the top-1 class.
// `maps`, when given, collects every map for methodAgreement().
std::vector<EvalRow> evaluateMethods(Model& model, const EvalDataset& data, const EvalOptions& options,
                                     Progress& progress, const std::function<void(const EvalRow&)>& rowDone = {},
                                     EvalMaps* maps = nullptr);
// The same on evalDataset(options, model.spec()).
std::vector<EvalRow> evaluateMethods(Model& model, const EvalOptions& options, Progress& progress,
                                     const std::function<void(const EvalRow&)>& rowDone = {});

// ROAD's noise, 0.01 on pixels scaled to [0, 1], in the model's normalised units per channel.
cv::Scalar roadNoiseStd(const Preprocessing& preprocessing);

// One row per method; the ROAD fields are empty when ROAD was not measured.
std::string leaderboardCsv(const std::vector<EvalRow>& rows);
// Small multiples: one panel per metric (ROAD's two when measured), one horizontal bar per method
// with its 95% CI whisker, coloured by method family; as SVG text and as a PNG image drawn from
// the same layout. Readable with any number of methods.
std::string leaderboardSvg(const std::vector<EvalRow>& rows);
cv::Mat leaderboardPlot(const std::vector<EvalRow>& rows);
// `data`: the dataset's describe().
std::string leaderboardMarkdown(const std::vector<EvalRow>& rows, const std::string& modelName,
                                const EvalOptions& options, const std::string& data);

}  // namespace fovea
