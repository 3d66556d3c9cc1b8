#include "core/gaze/gaze_model.h"

#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/segment/segment_model.h"
#include "core/segment/segmenter.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

namespace fovea {

namespace {

double millisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

cv::Mat1f modelSaliencyMap(Model& model, const cv::Mat& bgr, const GazeMapOptions& options, Progress* progress) {
    const ModelSpec& spec = model.spec();
    const Explainer& method = findExplainer(options.method);
    if (spec.isConvolutional() && method.usesAttention()) {
        throw Error("method " + method.name(),
                    spec.architecture + " is a convolutional network: it has no attention (try gradcam)");
    }
    const ImageInput input = makeImageInput(bgr, spec);
    ExplainContext context(model, input, options.target, progress);
    const cv::Mat map = method.explain(context, method.resolve(options.params));
    return viewMapToImage(map, spec.preprocessing, bgr.size());
}

std::vector<GazeEvalRow> evaluateGaze(Model& model, GazeDataset& data, const std::string& stimuliDir,
                                      const GazeEvalOptions& options, Progress& progress,
                                      const std::function<void(const GazeEvalRow&)>& rowDone, std::size_t* dropped) {
    findExplainer(options.map.method);  // an unknown name fails before any work
    // First every stimulus's size, so fixations are in image pixels before any sAUC draws them.
    std::map<std::string, std::string> files;
    for (const std::string& image : data.stimuli()) {
        const std::filesystem::path file = std::filesystem::path(stimuliDir) / image;
        if (!std::filesystem::is_regular_file(file)) {
            if (options.skipMissing) continue;
            throw Error(stimuliDir, "has no image '" + printableText(image) +
                                        "' (the fixations name it; --skip-missing leaves such stimuli out)");
        }
        const std::string contents = readFileContents(file.string());
        const std::optional<ImageDimensions> dimensions =
            readImageDimensions(std::vector<std::uint8_t>(contents.begin(), contents.end()), file.string());
        const cv::Size size =
            dimensions ? cv::Size(dimensions->width, dimensions->height) : readImage(file.string()).size();
        data.fitToImage(image, size);
        files[image] = file.string();
    }
    const std::size_t gone = data.dropOutside();
    if (dropped) *dropped = gone;
    if (files.empty()) throw Error(stimuliDir, "holds none of the stimuli the fixations name");
    std::vector<GazeEvalRow> rows;
    std::size_t done = 0;
    for (const auto& [image, file] : files) {
        if (!progress.update(double(done) / double(files.size()), image)) throw Cancelled();
        const cv::Mat bgr = readImage(file);
        GazeEvalRow row;
        row.image = image;
        std::map<std::string, int> subjects;
        for (const Scanpath& path : data.scanpathsOf(image)) subjects[path.subject] += int(path.fixations.size());
        row.subjects = int(std::count_if(subjects.begin(), subjects.end(), [](const auto& s) { return s.second > 0; }));
        const auto start = std::chrono::steady_clock::now();
        SliceProgress slice(progress, double(done) / double(files.size()), double(done + 1) / double(files.size()));
        const cv::Mat1f map = modelSaliencyMap(model, bgr, options.map, &slice);
        row.msPerImage = millisecondsSince(start);
        const std::vector<cv::Point2d> others = otherFixationsScaled(data, image, bgr.size());
        row.model = scoreSaliency(map, data.fixationsOn(image), options.saliency, {}, {}, others);
        row.interObserver = options.interObserver
                                ? interObserverScores(data, image, bgr.size(), options.saliency, &others)
                                : meanScores({});
        rows.push_back(row);
        if (rowDone) rowDone(row);
        ++done;
    }
    progress.update(1.0, "done");
    return rows;
}

GazeEvalRow meanGazeRow(const std::vector<GazeEvalRow>& rows) {
    GazeEvalRow mean;
    mean.image = "mean";
    std::vector<SaliencyScores> model, people;
    for (const GazeEvalRow& row : rows) {
        model.push_back(row.model);
        people.push_back(row.interObserver);
        mean.subjects = std::max(mean.subjects, row.subjects);
        mean.msPerImage += row.msPerImage / double(rows.size());
    }
    mean.model = meanScores(model);
    mean.interObserver = meanScores(people);
    return mean;
}

std::string gazeTableCsv(const std::vector<GazeEvalRow>& rows) {
    std::ostringstream out;
    out << std::setprecision(6) << "image,subjects,fixations";
    for (const char* name : saliencyMetricNames()) out << ',' << name;
    for (const char* name : saliencyMetricNames()) out << ",io_" << name;
    out << ",ms\n";
    std::vector<GazeEvalRow> all = rows;
    all.push_back(meanGazeRow(rows));
    for (const GazeEvalRow& row : all) {
        const bool quote = row.image.find_first_of(",\"") != std::string::npos;
        out << (quote ? "\"" : "") << row.image << (quote ? "\"" : "") << ',' << row.subjects << ','
            << row.model.fixations;
        for (const double v : saliencyMetricValues(row.model)) out << ',' << v;
        for (const double v : saliencyMetricValues(row.interObserver)) out << ',' << v;
        out << ',' << std::setprecision(4) << row.msPerImage << std::setprecision(6) << '\n';
    }
    return out.str();
}

namespace {

// Per (method, variant): the fixations each scene needed, and the time per scene.
struct SearchTally {
    std::vector<double> needed;
    double milliseconds = 0.0;
};

// The 1-based fixation that is on object `target`, 0 when none.
int objectFixationsToTarget(const Scanpath& path, int target) {
    for (std::size_t i = 0; i < path.fixations.size(); ++i) {
        if (path.fixations[i].object == target) return int(i) + 1;
    }
    return 0;
}

cv::Mat1f randomMap(cv::Size size, std::uint64_t seed) {
    cv::RNG random(seed);
    cv::Mat1f map(size);
    random.fill(map, cv::RNG::UNIFORM, 0.0f, 1.0f);
    return map;
}

}  // namespace

std::vector<VisualSearchRow> evaluateVisualSearch(Model& model, const VisualSearchOptions& options, Progress& progress,
                                                  const std::function<void(const VisualSearchRow&)>& rowDone) {
    if (options.scenes < 1 || options.maxFixations < 1)
        throw Error("visual search", "needs at least one scene and one fixation");
    options.scene.validate();
    for (const std::string& name : options.methods) findExplainer(name);
    const ModelSpec& spec = model.spec();
    std::vector<std::string> sources = options.methods;
    if (options.baselines) {
        sources.push_back("centre");
        sources.push_back("random");
    }
    std::vector<std::string> variants = {"pixels"};
    if (options.objectLevel)
        variants.insert(variants.end(), {"objects-mass", "objects-mean", "segments-mass", "segments-mean"});
    std::map<std::pair<std::string, std::string>, SearchTally> tallies;
    WtaOptions wta = options.wta;
    wta.fixations = options.maxFixations;
    ObjectScanpathOptions byMass, byMean;
    byMass.fixations = byMean.fixations = options.maxFixations;
    byMean.ranking = ObjectRanking::MeanAttention;
    const Segmenter& parts = findSegmenter("kmeans-parts");
    const double miss = options.maxFixations + 1;
    for (int s = 0; s < options.scenes; ++s) {
        if (!progress.update(double(s) / options.scenes, "scene " + std::to_string(s + 1))) throw Cancelled();
        const Scene scene = generateScene(options.firstSeed + std::uint64_t(s), options.scene);
        const ImageInput input = makeImageInput(scene.image, spec);
        const cv::Size size = scene.image.size();
        cv::Mat1i objects;
        scene.labelMask.convertTo(objects, CV_32S);
        cv::Mat1i segments;
        if (options.objectLevel) {
            const SegmentInputs inputs = segmentInputsFor(model, input, parts, SegmentRunOptions{});
            segments = viewLabelsToImage(parts.segment(inputs, parts.defaults()).labels, spec.preprocessing, size);
        }
        for (const std::string& source : sources) {
            const auto start = std::chrono::steady_clock::now();
            cv::Mat1f map;
            if (source == "centre") {
                map = centreBiasMap(size);
            } else if (source == "random") {
                map = randomMap(size, options.firstSeed + std::uint64_t(s));
            } else {
                const Explainer& method = findExplainer(source);
                ExplainContext context(model, input);
                map = viewMapToImage(method.explain(context, method.defaults()), spec.preprocessing, size);
            }
            const Scanpath pixels = synthesizeScanpath(map, wta);
            const int pixelHits = fixationsToTarget(pixels, scene.targetMask);
            SearchTally& pixelTally = tallies[{source, "pixels"}];
            pixelTally.milliseconds += millisecondsSince(start);
            pixelTally.needed.push_back(pixelHits > 0 ? pixelHits : miss);
            if (!options.objectLevel) continue;
            for (const auto& [suffix, objectOptions] :
                 {std::make_pair("-mass", byMass), std::make_pair("-mean", byMean)}) {
                // Ground-truth objects: the target is objects[0], label 1, object index 0.
                const int objectHits =
                    objectFixationsToTarget(synthesizeObjectScanpath(map, objects, objectOptions), 0);
                tallies[{source, std::string("objects") + suffix}].needed.push_back(objectHits > 0 ? objectHits : miss);
                const int segmentHits =
                    fixationsToTarget(synthesizeObjectScanpath(map, segments, objectOptions), scene.targetMask);
                tallies[{source, std::string("segments") + suffix}].needed.push_back(segmentHits > 0 ? segmentHits
                                                                                                     : miss);
            }
        }
    }
    std::vector<VisualSearchRow> rows;
    for (const std::string& source : sources) {
        for (const std::string& variant : variants) {
            const SearchTally& tally = tallies[{source, variant}];
            VisualSearchRow row;
            row.method = source;
            row.variant = variant;
            row.fixations = meanWithCI(tally.needed);
            const double n = double(tally.needed.size());
            row.firstFixation = double(std::count(tally.needed.begin(), tally.needed.end(), 1.0)) / n;
            row.foundWithin3 =
                double(std::count_if(tally.needed.begin(), tally.needed.end(), [](double v) { return v <= 3.0; })) / n;
            row.found =
                double(std::count_if(tally.needed.begin(), tally.needed.end(), [&](double v) { return v < miss; })) / n;
            row.msPerScene = variant == "pixels" ? tally.milliseconds / n : 0.0;
            rows.push_back(row);
            if (rowDone) rowDone(row);
        }
    }
    progress.update(1.0, "done");
    return rows;
}

std::string visualSearchCsv(const std::vector<VisualSearchRow>& rows) {
    std::ostringstream out;
    out << std::setprecision(6)
        << "method,scanpath,fixations_mean,fixations_ci95,first_fixation,within_3,found,scenes,ms_per_scene\n";
    for (const VisualSearchRow& row : rows) {
        out << row.method << ',' << row.variant << ',' << row.fixations.mean << ',' << row.fixations.halfWidth << ','
            << row.firstFixation << ',' << row.foundWithin3 << ',' << row.found << ',' << row.fixations.count << ','
            << row.msPerScene << '\n';
    }
    return out.str();
}

std::string visualSearchMarkdown(const std::vector<VisualSearchRow>& rows, const std::string& modelName,
                                 const VisualSearchOptions& options) {
    std::ostringstream out;
    out << std::fixed;
    out << "| method | scanpath | fixations to the target (mean ± 95% CI) | found at fixation 1 | within 3 | within "
        << options.maxFixations << " | ms / scene |\n|---|---|---|---|---|---|---|\n";
    for (const VisualSearchRow& row : rows) {
        out << "| " << row.method << " | " << row.variant << " | " << std::setprecision(2) << row.fixations.mean
            << " ± " << row.fixations.halfWidth << " | " << std::setprecision(3) << row.firstFixation << " | "
            << row.foundWithin3 << " | " << row.found << " | ";
        if (row.variant == "pixels") out << std::setprecision(1) << row.msPerScene;
        out << " |\n";
    }
    out << "\n"
        << modelName << ", " << options.scenes << " held-out shapes-in-clutter scenes (seeds " << options.firstSeed
        << " on). pixels: winner-take-all with inhibition of return (disk of radius " << std::setprecision(1)
        << (options.wta.radius > 0 ? options.wta.radius : options.scene.size / 10.0)
        << " px). objects: the scene's ground-truth objects; segments: k-means-parts segments of the model's keys; "
           "each visited "
           "in the order of the map's mass on it (-mass) or of its mean per pixel (-mean), at its attention-weighted "
           "centroid. "
           "A scanpath that has not reached the target after "
        << options.maxFixations << " fixations counts " << options.maxFixations + 1
        << ". centre: a centre-bias map; random: uniform noise.\n";
    return out.str();
}

}  // namespace fovea
