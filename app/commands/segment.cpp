// fovea segment: segmentation masks from attention (a label PNG and an overlay per input), and
// fovea segment eval: mIoU and CorLoc of the methods on shapes scenes or on a labelled folder.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/explain/explainer.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"
#include "core/segment/segment_model.h"
#include "core/segment/segmenter.h"
#include "core/util/error.h"

#include <filesystem>
#include <iostream>
#include <sstream>

namespace fovea::cli {
namespace {

std::vector<std::string> splitNames(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

SegmentParams paramsFor(const Segmenter& method, const std::vector<std::string>& texts, bool ignoreUnknown) {
    SegmentParams given;
    const std::vector<SegmenterParam> known = method.parameters();
    for (const std::string& text : texts) {
        const auto [name, value] = parseExplainerParam(text);
        const bool has = std::any_of(known.begin(), known.end(), [&](const SegmenterParam& p) { return p.name == name; });
        if (has || !ignoreUnknown) given[name] = value;
    }
    return method.resolve(given);
}

SegmentRunOptions runOptionsFrom(const Args& args) {
    SegmentRunOptions run;
    run.layer = args.intValue("layer", -1);
    run.mapMethod = args.value("map", "");
    if (!run.mapMethod.empty()) findExplainer(run.mapMethod);  // fail early on a typo
    run.classes = args.intValue("classes", 1);
    for (const std::string& text : args.values("map-param")) {
        const auto [name, value] = parseExplainerParam(text);
        run.mapParams[name] = value;
    }
    return run;
}

int runSegmentEval(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames({"methods", "scenes", "data", "gt", "out", "param", "layer", "map", "map-param", "classes"}, runtimeOptionNames()),
                    {});
    const std::string modelPath = args.positional().empty() ? findDemoModel() : args.positional(0, "MODEL");
    SegmentEvalOptions options;
    if (args.has("methods")) options.methods = splitNames(args.value("methods"));
    for (const std::string& name : options.methods) {
        // --param applies to every method that has that parameter.
        options.params.push_back(paramsFor(findSegmenter(name), args.values("param"), true));
    }
    options.scenes = args.intValue("scenes", options.scenes);
    options.dataDir = args.value("data", "");
    options.gtDir = args.value("gt", "");
    if (options.scenes <= 0) throw UsageError{"--scenes must be positive"};
    if (options.dataDir.empty() != options.gtDir.empty()) throw UsageError{"--data and --gt go together"};
    options.run = runOptionsFrom(args);
    const std::string outPath = args.value("out", "segment-eval.csv");

    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const std::string name = std::filesystem::path(modelPath).filename().string();
    const std::filesystem::path parent = std::filesystem::path(outPath).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    const std::string markdownPath = std::filesystem::path(outPath).replace_extension(".md").string();
    std::vector<SegmentEvalRow> written;
    ConsoleProgress progress;
    evaluateSegmenters(*model, options, progress, [&](const SegmentEvalRow& row) {
        written.push_back(row);
        writeFileAtomically(outPath, [&](std::ostream& out) { out << segmentTableCsv(written); });
        writeFileAtomically(markdownPath, [&](std::ostream& out) { out << segmentTableMarkdown(written, name, options); });
    });
    std::cout << segmentTableMarkdown(written, name, options) << "wrote " << outPath << " and " << markdownPath << "\n";
    return 0;
}

}  // namespace

int runSegmentCommand(const Arguments& arguments) {
    if (!arguments.empty() && arguments[0] == "eval") return runSegmentEval(Arguments(arguments.begin() + 1, arguments.end()));
    if (!arguments.empty() && arguments[0] == "methods") {
        for (const Segmenter* method : segmenters()) {
            std::cout << method->name() << ": " << method->title() << "\n    " << method->citation() << "\n";
            for (const SegmenterParam& p : method->parameters()) {
                std::cout << "    --param " << p.name << "=" << p.defaultValue << "  [" << p.minimum << ".." << p.maximum
                          << (p.integer ? ", integer" : "") << "] " << p.help;
                for (std::size_t i = 0; i < p.choices.size(); ++i) std::cout << (i ? ", " : " (") << int(p.minimum) + int(i) << " " << p.choices[i];
                std::cout << (p.choices.empty() ? "" : ")") << "\n";
            }
        }
        return 0;
    }
    const Args args(arguments, joinNames({"method", "param", "out", "layer", "map", "map-param", "classes", "opacity"}, runtimeOptionNames()), {});
    if (args.positional().size() < 2) throw UsageError{"usage: fovea segment MODEL INPUTS... --method M --out DIR"};
    const std::string modelPath = args.positional(0, "MODEL");
    const std::string outDir = args.value("out");
    if (outDir.empty()) throw UsageError{"missing --out DIR"};
    const Segmenter& method = findSegmenter(args.value("method", "tokencut"));
    const SegmentParams params = paramsFor(method, args.values("param"), false);
    const SegmentRunOptions run = runOptionsFrom(args);
    const double opacity = args.doubleValue("opacity", 0.45);

    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    std::filesystem::create_directories(outDir);
    for (std::size_t i = 1; i < args.positional().size(); ++i) {
        const std::string inputPath = args.positional()[i];
        const ImageInput input = loadImageInput(inputPath, model->spec());
        const Segmentation result = method.segment(segmentInputsFor(*model, input, method, run), params);
        const cv::Mat1i labels = resizeLabels(result.labels, input.view.size());
        const std::string stem = (std::filesystem::path(outDir) / std::filesystem::path(inputPath).stem()).string();
        writeImage(stem + "_mask.png", labelMaskImage(labels));
        writeImage(stem + "_overlay.png", segmentationOverlay(input.view, labels, opacity));
        std::cout << inputPath << ": " << result.count << " segment(s), " << cv::countNonZero(labels) * 100.0 / double(labels.total())
                  << "% of the image; wrote " << stem << "_mask.png and " << stem << "_overlay.png\n";
    }
    return 0;
}

}  // namespace fovea::cli
