#include "core/explain/evaluate.h"

#include "core/explain/explainer.h"
#include "core/explain/metrics.h"
#include "core/explain/pointing_game.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

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

std::string cell(const MeanCI& value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(3) << value.mean << " ± " << value.halfWidth;
    return out.str();
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

std::vector<EvalRow> evaluateMethods(Model& model, const EvalOptions& options, Progress& progress,
                                     const std::function<void(const EvalRow&)>& rowDone) {
    if (options.scenes <= 0) throw Error("fovea eval", "the number of scenes must be positive");
    SceneOptions sceneOptions = options.scene;
    sceneOptions.size = model.spec().imageHeight;
    std::vector<EvalRow> rows;
    const double total = double(options.methods.size()) * options.scenes;
    int done = 0;
    for (const std::string& name : options.methods) {
        const Explainer& method = findExplainer(name);
        const ExplainParams params = method.defaults();
        std::vector<double> strict, within15, energy, deletion, insertion;
        double seconds = 0.0;
        for (int i = 0; i < options.scenes; ++i) {
            const Scene scene = generateScene(options.firstSeed + std::uint64_t(i), sceneOptions);
            const ImageInput input = makeImageInput(scene.image, model.spec(), "scene");
            const auto start = std::chrono::steady_clock::now();
            const ModelOutputs out = model.run(input, method.capture(params));
            const cv::Mat map = method.compute(out.attention, params);
            seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            strict.push_back(pointingHit(map, scene.targetMask, 0.0) ? 1.0 : 0.0);
            within15.push_back(pointingHit(map, scene.targetMask, 15.0) ? 1.0 : 0.0);
            energy.push_back(energyPointingGame(map, scene.targetMask));
            // Deletion / insertion on the normalised input, scoring the originally predicted class.
            const int predicted = out.topClass();
            const ImageScorer score = [&](const cv::Mat& image) {
                return double(model.run(fromNormalised(image, input), CaptureRequest::nothing()).probabilities()[std::size_t(predicted)]);
            };
            cv::Mat saliency;
            cv::resize(map, saliency, cv::Size(input.width, input.height), 0, 0, cv::INTER_LINEAR);
            const cv::Mat image = normalisedImage(input);
            deletion.push_back(deletionCurve(image, saliency, score, options.pixelsPerStep).auc);
            insertion.push_back(insertionCurve(image, saliency, score, options.pixelsPerStep).auc);
            if (!progress.update(double(++done) / total, name)) throw Cancelled();
        }
        EvalRow row;
        row.method = name;
        row.pointingStrict = meanWithCI(strict);
        row.pointing15 = meanWithCI(within15);
        row.energy = meanWithCI(energy);
        row.deletion = meanWithCI(deletion);
        row.insertion = meanWithCI(insertion);
        row.msPerImage = 1000.0 * seconds / options.scenes;
        rows.push_back(row);
        if (rowDone) rowDone(row);
    }
    return rows;
}

std::string leaderboardCsv(const std::vector<EvalRow>& rows) {
    std::ostringstream out;
    out << "method,scenes,pointing_strict,pointing_strict_ci,pointing_15px,pointing_15px_ci,energy_pointing,"
           "energy_pointing_ci,deletion_auc,deletion_auc_ci,insertion_auc,insertion_auc_ci,ms_per_image\n";
    out << std::setprecision(6);
    for (const EvalRow& r : rows) {
        out << r.method << ',' << r.pointingStrict.count;
        for (const MeanCI* m : {&r.pointingStrict, &r.pointing15, &r.energy, &r.deletion, &r.insertion}) {
            out << ',' << m->mean << ',' << m->halfWidth;
        }
        out << ',' << r.msPerImage << '\n';
    }
    return out.str();
}

std::string leaderboardMarkdown(const std::vector<EvalRow>& rows, const std::string& modelName, const EvalOptions& options) {
    std::ostringstream out;
    out << "| method | pointing (strict) | pointing (15 px) | energy pointing | deletion AUC (lower is better) | "
           "insertion AUC (higher is better) | ms / image |\n|---|---|---|---|---|---|---|\n";
    for (const EvalRow& r : rows) {
        out << "| " << r.method << " | " << cell(r.pointingStrict) << " | " << cell(r.pointing15) << " | " << cell(r.energy)
            << " | " << cell(r.deletion) << " | " << cell(r.insertion) << " | " << std::fixed << std::setprecision(1)
            << r.msPerImage << " |\n";
    }
    out << "\n" << modelName << ", " << options.scenes << " held-out shapes-in-clutter scenes (seeds " << options.firstSeed
        << " on), mean ± 95% confidence interval; deletion/insertion move " << options.pixelsPerStep
        << " pixels a step and score the predicted class's probability (RISE). Agreement between methods is not "
           "correctness: these scores measure localisation and faithfulness on scenes whose ground truth is known.\n";
    return out.str();
}

}  // namespace fovea
