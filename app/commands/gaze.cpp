// fovea gaze eval: a model's explanation maps against human fixations (saliency metrics per
// stimulus and their mean, with the inter-observer baseline); fovea gaze visual-search: fixations
// a model scanpath needs to reach the target on shapes scenes; fovea scanpath: a scanpath from a
// model's map (CSV, PNG or SVG); fovea scanpath compare: MultiMatch and the other scanpath
// metrics between two scanpath files.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/gaze/gaze_io.h"
#include "core/gaze/gaze_model.h"
#include "core/gaze/multimatch.h"
#include "core/gaze/scanpath_figure.h"
#include "core/gaze/scanpath_metrics.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"
#include "core/segment/segment_model.h"
#include "core/segment/segmenter.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace fovea::cli {
namespace {

std::string extensionOf(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
    return extension;
}

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

// "1280x720" -> (1280, 720).
cv::Size2d parseScreen(const std::string& text, const std::string& option) {
    const std::size_t x = text.find('x');
    char* end = nullptr;
    const double width = x == std::string::npos ? 0.0 : std::strtod(text.substr(0, x).c_str(), &end);
    const double height = x == std::string::npos ? 0.0 : std::strtod(text.substr(x + 1).c_str(), &end);
    if (!(width > 0) || !(height > 0))
        throw UsageError{"--" + option + " needs WIDTHxHEIGHT in pixels, e.g. 1280x720, not '" + text + "'"};
    return {width, height};
}

ExplainParams paramsFrom(const Args& args) {
    ExplainParams given;
    for (const std::string& text : args.values("param")) {
        const auto [name, value] = parseExplainerParam(text);
        given[name] = value;
    }
    return given;
}

std::string formatScore(double value, int precision = 4) {
    if (std::isnan(value)) return "nan";
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << value;
    return out.str();
}

int runGazeEval(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames({"stimuli", "fixations", "method", "param", "out", "sigma", "sigma-deg", "ppd", "display",
                               "splits", "seed", "target"},
                              runtimeOptionNames()),
                    {"skip-missing", "no-inter-observer", "mit"});
    const std::string modelPath = args.positional(0, "MODEL");
    const std::string stimuli = args.value("stimuli"), fixations = args.value("fixations");
    if (stimuli.empty() || fixations.empty())
        throw UsageError{"usage: fovea gaze eval MODEL --stimuli DIR --fixations FILE [--method M] --out TABLE.csv"};
    GazeEvalOptions options;
    options.map.method = args.value("method", "rollout");
    options.map.params = findExplainer(options.map.method).resolve(paramsFrom(args));
    options.skipMissing = args.has("skip-missing");
    options.interObserver = !args.has("no-inter-observer");
    options.saliency.sigma = args.doubleValue("sigma", 0.0);
    if (args.has("sigma-deg")) {
        if (args.has("sigma")) throw UsageError{"give --sigma (pixels) or --sigma-deg with --ppd, not both"};
        if (!args.has("ppd")) throw UsageError{"--sigma-deg needs --ppd (pixels per degree of visual angle)"};
        options.saliency.sigma = args.doubleValue("sigma-deg", 1.0) * args.doubleValue("ppd", 0.0);
    }
    if (options.saliency.sigma < 0) throw UsageError{"--sigma must be positive"};
    options.saliency.splits = args.intValue("splits", options.saliency.splits);
    options.saliency.seed = std::uint64_t(args.intValue("seed", 0));
    if (args.has("mit")) {
        // The MIT benchmark code: a binary fixation map, MATLAB's std, min-max SIM.
        options.saliency.repeats = RepeatedFixations::Collapse;
        options.saliency.nssStd = StdConvention::Sample;
        options.saliency.sim = SimConvention::Mit;
    }
    const std::string outPath = args.value("out", "gaze-eval.csv");

    GazeDataset data = readGazeFile(fixations);
    if (args.has("display")) {
        const cv::Size2d display = parseScreen(args.value("display"), "display");
        data.setDisplaySize(cv::Size(int(display.width), int(display.height)));
    }
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    options.map.target = parseTargetClass(args.value("target", ""), model->spec());
    const std::filesystem::path parent = std::filesystem::path(outPath).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    ConsoleProgress progress;
    std::vector<GazeEvalRow> written;
    std::size_t dropped = 0;
    std::printf("%-28s %4s %5s", "image", "subj", "fix");
    for (const char* name : saliencyMetricNames()) std::printf(" %9s", name);
    std::printf("\n");
    const auto printRow = [](const GazeEvalRow& row, const SaliencyScores& scores, const std::string& label) {
        std::printf("%-28s %4d %5d", label.substr(0, 28).c_str(), row.subjects, scores.fixations);
        for (const double v : saliencyMetricValues(scores)) std::printf(" %9s", formatScore(v).c_str());
        std::printf("\n");
    };
    const std::vector<GazeEvalRow> rows = evaluateGaze(
        *model, data, stimuli, options, progress,
        [&](const GazeEvalRow& row) {
            written.push_back(row);
            writeFileAtomically(outPath, [&](std::ostream& out) { out << gazeTableCsv(written); });
            printRow(row, row.model, row.image);
        },
        &dropped);
    const GazeEvalRow mean = meanGazeRow(rows);
    printRow(mean, mean.model, "mean (" + options.map.method + ")");
    if (options.interObserver) printRow(mean, mean.interObserver, "mean (inter-observer)");
    if (dropped > 0) std::printf("%zu fixation(s) outside their image were left out\n", dropped);
    std::cout << "wrote " << outPath << "\n";
    return 0;
}

int runVisualSearch(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames({"methods", "scenes", "fixations", "radius", "out", "first-seed"}, runtimeOptionNames()),
                    {"no-objects", "no-baselines"});
    const std::string modelPath = args.positional().empty() ? findDemoModel() : args.positional(0, "MODEL");
    VisualSearchOptions options;
    if (args.has("methods")) options.methods = splitList(args.value("methods"));
    options.scenes = args.intValue("scenes", options.scenes);
    options.maxFixations = args.intValue("fixations", options.maxFixations);
    options.wta.radius = args.doubleValue("radius", 0.0);
    options.objectLevel = !args.has("no-objects");
    options.baselines = !args.has("no-baselines");
    if (args.has("first-seed")) options.firstSeed = std::stoull(args.value("first-seed"));
    if (options.scenes < 1 || options.maxFixations < 1) throw UsageError{"--scenes and --fixations must be positive"};
    const std::string outDir = args.value("out", "visual-search");
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    options.scene.size = model->spec().imageHeight;
    std::filesystem::create_directories(outDir);
    ConsoleProgress progress;
    const std::vector<VisualSearchRow> rows = evaluateVisualSearch(*model, options, progress);
    const std::string name = std::filesystem::path(modelPath).filename().string();
    const std::string markdown = visualSearchMarkdown(rows, name, options);
    const std::string csvPath = (std::filesystem::path(outDir) / "visual_search.csv").string();
    const std::string mdPath = (std::filesystem::path(outDir) / "visual_search.md").string();
    writeFileAtomically(csvPath, [&](std::ostream& out) { out << visualSearchCsv(rows); });
    writeFileAtomically(mdPath, [&](std::ostream& out) { out << markdown; });
    std::cout << markdown << "wrote " << csvPath << " and " << mdPath << "\n";
    return 0;
}

int runScanpathCompare(const Arguments& arguments) {
    const Args args(arguments, {"screen", "tdir", "tdur", "tamp", "bandwidth", "grid"}, {"grouping", "json"});
    if (args.positional().size() != 2)
        throw UsageError{
            "usage: fovea scanpath compare A.csv B.csv --screen WxH [--grouping --tdir DEG --tdur S --tamp PX] "
            "[--json]"};
    if (!args.has("screen"))
        throw UsageError{"missing --screen WIDTHxHEIGHT (the display the scanpaths were recorded on)"};
    const cv::Size2d screen = parseScreen(args.value("screen"), "screen");
    MultiMatchOptions options;
    options.screen = screen;
    options.grouping = args.has("grouping");
    if (!options.grouping && (args.has("tdir") || args.has("tdur") || args.has("tamp")))
        throw UsageError{"--tdir, --tdur and --tamp need --grouping"};
    options.directionThreshold = args.doubleValue("tdir", 0.0);
    options.durationThreshold = args.doubleValue("tdur", 0.0);
    options.amplitudeThreshold = args.doubleValue("tamp", 0.0);
    const Scanpath a = readScanpath(args.positional()[0]), b = readScanpath(args.positional()[1]);
    const MultiMatchResult mm = multiMatch(a, b, options);
    ScanMatchOptions scanMatchOptions;
    scanMatchOptions.screen = screen;
    const double scanMatchScore = scanMatch(a, b, scanMatchOptions);
    const int edits = stringEditDistance(a, b, screen, 5, 5);
    const double dtw = dynamicTimeWarping(a.points(), b.points());
    const double frechet = discreteFrechetDistance(a.points(), b.points());
    // Sequence score: regions from mean-shift on the fixations of both paths.
    const double bandwidth = args.doubleValue("bandwidth", 0.05 * std::hypot(screen.width, screen.height));
    std::vector<cv::Point2d> all = a.points();
    const std::vector<cv::Point2d> second = b.points();
    all.insert(all.end(), second.begin(), second.end());
    const double sequence = all.empty() ? std::nan("") : sequenceScore(a, b, meanShiftClusters(all, bandwidth));
    if (args.has("json")) {
        nlohmann::json out;
        out["multimatch"] = {{"vector", mm.vector},
                             {"direction", mm.direction},
                             {"length", mm.length},
                             {"position", mm.position},
                             {"duration", mm.duration}};
        out["scanmatch"] = scanMatchScore;
        out["string_edit_distance"] = edits;
        out["dtw"] = dtw;
        out["frechet"] = frechet;
        out["sequence_score"] = sequence;
        out["fixations"] = {a.fixations.size(), b.fixations.size()};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::cout << "MultiMatch (" << (options.grouping ? "grouping" : "no grouping") << ", screen " << screen.width << "x"
              << screen.height << ")\n"
              << "  vector     " << formatScore(mm.vector, 5) << "\n  direction  " << formatScore(mm.direction, 5)
              << "\n  length     " << formatScore(mm.length, 5) << "\n  position   " << formatScore(mm.position, 5)
              << "\n  duration   " << formatScore(mm.duration, 5) << "\n";
    if (!mm.valid) std::cout << "  (MultiMatch needs at least 3 fixations in each scanpath)\n";
    std::cout << "ScanMatch (12x8 grid)        " << formatScore(scanMatchScore) << "\n"
              << "string edit distance (5x5)   " << edits << "\n"
              << "DTW (px)                     " << formatScore(dtw, 1) << "\n"
              << "discrete Frechet (px)        " << formatScore(frechet, 1) << "\n"
              << "sequence score               " << formatScore(sequence) << "\n";
    return 0;
}

}  // namespace

int runGazeCommand(const Arguments& arguments) {
    if (!arguments.empty() && arguments[0] == "eval")
        return runGazeEval(Arguments(arguments.begin() + 1, arguments.end()));
    if (!arguments.empty() && arguments[0] == "visual-search")
        return runVisualSearch(Arguments(arguments.begin() + 1, arguments.end()));
    throw UsageError{
        "usage: fovea gaze eval MODEL --stimuli DIR --fixations FILE ... | fovea gaze visual-search [MODEL] ..."};
}

int runScanpathCommand(const Arguments& arguments) {
    if (!arguments.empty() && arguments[0] == "compare")
        return runScanpathCompare(Arguments(arguments.begin() + 1, arguments.end()));
    const Args args(arguments,
                    joinNames({"method", "param", "out", "fixations", "radius", "inhibition", "decay", "segments",
                               "rank", "target", "human", "colour"},
                              runtimeOptionNames()),
                    {"no-heatmap"});
    if (args.positional().size() != 2)
        throw UsageError{"usage: fovea scanpath MODEL IMAGE --method M --out PATH.csv|png|svg"};
    const std::string outPath = args.value("out");
    const std::string extension = extensionOf(outPath);
    if (extension != ".csv" && extension != ".png" && extension != ".svg")
        throw UsageError{"--out must end in .csv, .png or .svg"};
    const std::string inhibition = args.value("inhibition", "disk");
    if (inhibition != "disk" && inhibition != "gaussian")
        throw UsageError{"--inhibition is disk or gaussian, not '" + inhibition + "'"};
    const std::string colour = args.value("colour", "time");
    if (colour != "time" && colour != "subject") throw UsageError{"--colour is time or subject"};
    WtaOptions wta;
    wta.fixations = args.intValue("fixations", wta.fixations);
    wta.radius = args.doubleValue("radius", 0.0);
    wta.decay = args.doubleValue("decay", 0.0);
    wta.inhibition = inhibition == "disk" ? Inhibition::Disk : Inhibition::Gaussian;
    if (wta.fixations < 1 || wta.radius < 0 || wta.decay < 0 || wta.decay > 1)
        throw UsageError{"--fixations >= 1, --radius >= 0, --decay in [0, 1]"};

    const std::string modelPath = args.positional(0, "MODEL"), imagePath = args.positional(1, "IMAGE");
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const cv::Mat bgr = readImage(imagePath);
    GazeMapOptions mapOptions;
    mapOptions.method = args.value("method", model->spec().isConvolutional() ? "gradcam" : "rollout");
    mapOptions.params = paramsFrom(args);
    mapOptions.target = parseTargetClass(args.value("target", ""), model->spec());
    ConsoleProgress progress;
    const cv::Mat1f map = modelSaliencyMap(*model, bgr, mapOptions, &progress);
    Scanpath path;
    std::string kind = "winner-take-all, " + inhibition + " inhibition";
    if (args.has("segments")) {
        // Object level: the segmenter's segments, visited by the map's mass on them.
        const Segmenter& segmenter = findSegmenter(args.value("segments"));
        const ImageInput input = makeImageInput(bgr, model->spec(), imagePath);
        const Segmentation segmentation =
            segmenter.segment(segmentInputsFor(*model, input, segmenter, SegmentRunOptions{}), segmenter.defaults());
        ObjectScanpathOptions objects;
        objects.fixations = args.has("fixations") ? wta.fixations : 0;
        const std::string rank = args.value("rank", "mass");
        if (rank != "mass" && rank != "mean") throw UsageError{"--rank is mass or mean, not '" + rank + "'"};
        objects.ranking = rank == "mass" ? ObjectRanking::Mass : ObjectRanking::MeanAttention;
        path = synthesizeObjectScanpath(
            map, viewLabelsToImage(segmentation.labels, model->spec().preprocessing, bgr.size()), objects);
        kind =
            "objects: " + segmenter.name() + " segments by " + (rank == "mass" ? "attention mass" : "mean attention");
    } else {
        path = synthesizeScanpath(map, wta);
    }
    path.subject = "model:" + mapOptions.method;
    path.image = std::filesystem::path(imagePath).filename().string();
    if (extension == ".csv") {
        writeScanpathCsv(outPath, path);
    } else {
        std::vector<Scanpath> paths{path};
        if (args.has("human")) {
            // Human scanpaths of this image from a gaze file, drawn with the model's.
            GazeDataset people = readGazeFile(args.value("human"));
            people.fitToImage(path.image, bgr.size());
            for (const Scanpath& human : people.scanpathsOf(path.image)) paths.push_back(human);
        }
        ScanpathStyle style;
        style.colouring =
            colour == "subject" || paths.size() > 1 ? ScanpathColouring::Subject : ScanpathColouring::Time;
        if (!args.has("no-heatmap")) style.heatmap = map;
        style.title = mapOptions.method + " scanpath (" + kind + ")";
        if (extension == ".png")
            writeImage(outPath, renderScanpathFigure(bgr, paths, style));
        else
            writeFileAtomically(outPath, [&](std::ostream& out) { out << scanpathFigureSvg(bgr, paths, style); });
    }
    std::cout << kind << ", " << path.fixations.size() << " fixation(s):\n";
    for (std::size_t i = 0; i < path.fixations.size(); ++i) {
        const Fixation& f = path.fixations[i];
        std::printf("  %2zu  x %7.1f  y %7.1f  %5.3f s%s\n", i + 1, f.x, f.y, f.duration,
                    f.object >= 0 ? ("  segment " + std::to_string(f.object + 1)).c_str() : "");
    }
    std::cout << "wrote " << outPath << "\n";
    return 0;
}

}  // namespace fovea::cli
