#include "core/explain/evaluate.h"

#include "core/explain/explainer.h"
#include "core/explain/metrics.h"
#include "core/explain/pointing_game.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace fovea {
namespace {

// The model's normalised input as an H x W x 3 float image (what deletion perturbs: RISE sets
// pixels of the normalised tensor to zero).
cv::Mat normalisedImage(const ImageInput& input) {
    cv::Mat image(input.height, input.width, CV_32FC3);
    const std::size_t plane = std::size_t(input.height) * input.width;
    for (int y = 0; y < input.height; ++y) {
        for (int x = 0; x < input.width; ++x) {
            const std::size_t at = std::size_t(y) * input.width + x;
            image.at<cv::Vec3f>(y, x) = {input.pixels[at], input.pixels[plane + at], input.pixels[2 * plane + at]};
        }
    }
    return image;
}

ImageInput fromNormalised(const cv::Mat& image, const ImageInput& like) {
    ImageInput input = like;
    const std::size_t plane = std::size_t(input.height) * input.width;
    for (int y = 0; y < input.height; ++y) {
        for (int x = 0; x < input.width; ++x) {
            const std::size_t at = std::size_t(y) * input.width + x;
            const cv::Vec3f v = image.at<cv::Vec3f>(y, x);
            input.pixels[at] = v[0];
            input.pixels[plane + at] = v[1];
            input.pixels[2 * plane + at] = v[2];
        }
    }
    return input;
}




}  // namespace

MeanCI meanWithCI(const std::vector<double>& values) {
    MeanCI result;
    std::vector<double> finite;
    for (const double v : values) {
        if (std::isfinite(v)) finite.push_back(v);
    }
    result.count = int(finite.size());
    if (finite.empty()) return result;
    result.mean = std::accumulate(finite.begin(), finite.end(), 0.0) / double(finite.size());
    if (finite.size() > 1) {
        double squares = 0.0;
        for (const double v : finite) squares += (v - result.mean) * (v - result.mean);
        const double sd = std::sqrt(squares / double(finite.size() - 1));
        result.halfWidth = 1.96 * sd / std::sqrt(double(finite.size()));
    }
    return result;
}

EvalDataset evalDataset(const EvalOptions& options, const ModelSpec& spec) {
    if (options.dataFolder.empty()) {
        if (!options.boxesFile.empty()) throw Error("fovea eval", "a boxes file needs a data folder");
        return EvalDataset::scenes(options.scenes, options.firstSeed, options.scene, spec);
    }
    return EvalDataset::folder(options.dataFolder, options.boxesFile, spec);
}

cv::Scalar roadNoiseStd(const Preprocessing& preprocessing) {
    // ROAD imputes ToTensor images, p / 255, before normalising: 0.01 there is
    // 0.01 * 255 * rescale / std in the normalised input.
    cv::Scalar noise;
    for (int c = 0; c < 3; ++c) {
        noise[c] = 0.01 * 255.0 * preprocessing.rescale / double(preprocessing.std[std::size_t(c)]);
    }
    return noise;
}

std::vector<EvalRow> evaluateMethods(Model& model, const EvalOptions& options, Progress& progress,
                                     const std::function<void(const EvalRow&)>& rowDone) {
    return evaluateMethods(model, evalDataset(options, model.spec()), options, progress, rowDone);
}

void EvalMaps::add(const std::string& method, int image, const cv::Mat& map) {
    if (methods.empty() || methods.back() != method) {
        methods.push_back(method);
        maps.emplace_back();
    }
    std::vector<cv::Mat>& row = maps.back();
    if (int(row.size()) <= image) row.resize(std::size_t(image) + 1);
    cv::Mat resampled;
    const bool shrinking = map.cols > grid.width || map.rows > grid.height;
    cv::resize(map, resampled, grid, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
    resampled.convertTo(row[std::size_t(image)], CV_32F);
}

std::vector<EvalRow> evaluateMethods(Model& model, const EvalDataset& data, const EvalOptions& options,
                                     Progress& progress, const std::function<void(const EvalRow&)>& rowDone,
                                     EvalMaps* maps) {
    if (options.road) {
        if (options.roadPercentages.empty()) throw Error("fovea eval", "ROAD needs at least one percentage");
        for (const double p : options.roadPercentages) {
            if (!(p >= 0.0 && p < 100.0)) throw Error("fovea eval", "ROAD percentages must be in [0, 100)");
        }
    }
    for (const std::string& name : options.methods) findExplainer(name);  // fail before any work
    const cv::Scalar roadNoise = roadNoiseStd(model.spec().preprocessing);
    std::vector<EvalRow> rows;
    const int images = data.size();
    const double total = double(options.methods.size()) * images;
    int done = 0;
    for (const std::string& name : options.methods) {
        const Explainer& method = findExplainer(name);
        const ExplainParams params = method.defaults();
        std::vector<double> strict, within15, energy, deletion, insertion, morf, lerf;
        double seconds = 0.0;
        for (int i = 0; i < images; ++i) {
            const EvalSample sample = data.sample(i);
            const ImageInput input = makeImageInput(sample.image, model.spec(), sample.name);
            const auto start = std::chrono::steady_clock::now();
            ExplainContext context(model, input, sample.label);
            const cv::Mat map = method.explain(context, params);
            seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (maps) maps->add(name, i, map);
            strict.push_back(pointingHit(map, sample.mask, 0.0) ? 1.0 : 0.0);
            within15.push_back(pointingHit(map, sample.mask, 15.0) ? 1.0 : 0.0);
            energy.push_back(energyPointingGame(map, sample.mask));
            // Deletion / insertion / ROAD on the normalised input, scoring the class explained.
            const int explained = context.target();
            const ImageScorer score = [&](const cv::Mat& image) {
                return double(model.run(fromNormalised(image, input), CaptureRequest::nothing())
                                  .probabilities()[std::size_t(explained)]);
            };
            cv::Mat saliency;
            cv::resize(map, saliency, cv::Size(input.width, input.height), 0, 0, cv::INTER_LINEAR);
            const cv::Mat image = normalisedImage(input);
            deletion.push_back(deletionCurve(image, saliency, score, options.pixelsPerStep).auc);
            insertion.push_back(insertionCurve(image, saliency, score, options.pixelsPerStep).auc);
            if (options.road) {
                // The same noise for every method on an image: the seed is the image's index.
                const auto seed = std::uint64_t(i);
                morf.push_back(
                    roadCurve(image, saliency, score, options.roadPercentages, true, seed, roadNoise).meanScore);
                lerf.push_back(
                    roadCurve(image, saliency, score, options.roadPercentages, false, seed, roadNoise).meanScore);
            }
            if (!progress.update(double(++done) / total, name)) throw Cancelled();
        }
        EvalRow row;
        row.method = name;
        row.images = images;
        row.pointingStrict = meanWithCI(strict);
        row.pointing15 = meanWithCI(within15);
        row.energy = meanWithCI(energy);
        row.deletion = meanWithCI(deletion);
        row.insertion = meanWithCI(insertion);
        row.roadMorf = meanWithCI(morf);
        row.roadLerf = meanWithCI(lerf);
        row.msPerImage = 1000.0 * seconds / images;
        rows.push_back(row);
        if (rowDone) rowDone(row);
    }
    return rows;
}

}  // namespace fovea
