// fovea info / run / dump: inspect a model, write one attention map, dump everything.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/commands/text.h"
#include "app/console_progress.h"
#include "core/explain/attention_maps.h"
#include "core/explain/explainer.h"
#include "core/image/figure.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <filesystem>
#include <iostream>

namespace fovea::cli {

namespace {

std::string lowerExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
    return extension;
}

void printTopClasses(const ModelSpec& spec, const ModelOutputs& out, int count) {
    if (spec.numClasses <= 0) return;
    for (const auto& [index, probability] : out.topClasses(count)) {
        std::printf("  %-16s %6.2f%%  (class %d)\n", spec.labelOf(index).c_str(), probability * 100.0, index);
    }
}

}  // namespace

int runInfoCommand(const Arguments& arguments) {
    const Args args(arguments, runtimeOptionNames(), {"json"});
    const std::string path = args.positional(0, "MODEL (a model folder or .safetensors file)");
    const std::unique_ptr<Model> model = openModel(path, runtimeFromArgs(args));
    if (args.has("json")) {
        nlohmann::json facts = model->spec().toJson();
        facts["device"] = model->deviceName();
        std::cout << facts.dump(2) << "\n";
    } else {
        std::cout << model->spec().describe() << "device       " << model->deviceName() << " (" << runtimeSummary() << ")\n";
    }
    return 0;
}

int runRunCommand(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames(joinNames({"method", "layer", "head", "query", "out", "discard", "colormap", "opacity", "param", "target"},
                                        runtimeOptionNames()),
                              textOptionNames()),
                    {"smooth", "exclude-magnets"});
    const std::string modelPath = args.positional(0, "MODEL");
    if (hasTextInput(args)) {
        const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
        return runTextRun(args, *model);
    }
    const std::string inputPath = args.positional(1, "INPUT (an image or a float32 [1,3,H,W] .npy)");
    const std::string outPath = args.value("out");
    if (outPath.empty()) throw UsageError{"missing --out FILE (.png figure or .npy map)"};
    const std::string extension = lowerExtension(outPath);
    if (extension != ".png" && extension != ".npy") throw UsageError{"--out must end in .png or .npy"};

    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    if (!model->accepts(InputKind::Image)) throw Error(modelPath, spec.architecture + " takes text: pass --text \"...\" or token ids with --ids FILE.npy");
    const std::string methodName = args.value("method", spec.isConvolutional() ? "gradcam" : "raw");
    if (spec.isConvolutional() && findExplainer(methodName).usesAttention()) {
        throw Error(modelPath, spec.architecture + " is a convolutional network: it has no attention for --method " + methodName +
                                   " (the CAM, gradient and perturbation methods work on it: see fovea methods)");
    }
    const ImageInput input = loadImageInput(inputPath, spec);
    AttentionMapOptions options;
    options.method = methodName;
    options.layer = args.intValue("layer", -1);
    options.heads = HeadSelection::parse(args.value("head", "mean"));
    options.discardRatio = float(args.doubleValue("discard", 0.0));
    const TokenLayout tokens = model->tokenLayout(input.height, input.width);
    if (tokens.size() > 0) {
        options.query = parseQueryToken(args.value("query", tokens.firstOf(TokenKind::Cls) >= 0 ? "cls" : "0"), tokens);
    }
    bool attentionMethod = true;

    ModelOutputs out;
    cv::Mat map;
    std::string description;
    if ((options.method == "raw" || options.method == "rollout") && args.values("param").empty()) {
        // Head fusions max/min and every query token, as before.
        if (tokens.size() == 0) throw Error(modelPath, "has no attention to map; choose a method that works on it, e.g. --method gradcam");
        out = model->run(input, captureForMap(options, spec.depth));
        map = attentionMap(out.attention, options);
        const std::string layerText =
            options.method == "raw" ? ", layer " + std::to_string(options.layer < 0 ? spec.depth - 1 : options.layer) : "";
        description = options.method + layerText + ", heads " + options.heads.toString();
    } else {
        const Explainer& method = findExplainer(options.method);
        ExplainParams given;
        for (const std::string& text : args.values("param")) {
            const auto [name, value] = parseExplainerParam(text);
            given[name] = value;
        }
        const auto has = [&](const char* name) {
            for (const ExplainerParam& p : method.parameters()) {
                if (p.name == name) return true;
            }
            return false;
        };
        attentionMethod = method.usesAttention();
        if (has("query")) given.emplace("query", options.query);
        if (has("layer") && args.has("layer")) given.emplace("layer", options.layer);
        if (has("discard") && args.has("discard")) given.emplace("discard", options.discardRatio);
        if (has("head") && args.has("head")) {
            if (options.heads.fusion == HeadFusion::Single) {
                given.emplace("head", options.heads.head);
            } else if (options.heads.fusion != HeadFusion::Mean) {
                throw UsageError{"--method " + options.method + " fuses heads by their mean or takes one head"};
            }
        }
        const ExplainParams params = method.resolve(given);
        ConsoleProgress progress;
        ExplainContext context(*model, input, parseTargetClass(args.value("target", ""), spec), &progress);
        map = method.explain(context, params);
        out.logits = context.logits();
        description = method.title();
        if (method.needsGradients() || !method.usesAttention()) description += ", class " + spec.labelOf(context.target());
        for (const auto& [key, value] : context.notes()) std::cout << key << ": " << value << '\n';
    }
    if (extension == ".npy") {
        writeNpy(outPath, NpyArray::fromFloats({map.rows, map.cols}, std::vector<float>(map.begin<float>(), map.end<float>())));
    } else {
        FigureOptions figure;
        figure.colormap = args.value("colormap", "viridis");
        figure.opacity = float(args.doubleValue("opacity", 0.5));
        figure.smooth = args.has("smooth");
        figure.title = description;
        if (attentionMethod && options.query >= 0) figure.title += ", query " + tokens[options.query].label();
        if (spec.numClasses > 0) figure.title += "; top-1 " + spec.labelOf(out.topClass());
        writeImage(outPath, renderHeatmapFigure(input.view, map, figure));
    }
    printTopClasses(spec, out, 3);
    std::cout << "wrote " << outPath << " (" << map.rows << "x" << map.cols << " map)\n";
    return 0;
}

int runDumpCommand(const Arguments& arguments) {
    const Args args(arguments, joinNames(joinNames({"out", "layer"}, runtimeOptionNames()), textOptionNames()), {});
    const std::string modelPath = args.positional(0, "MODEL");
    if (hasTextInput(args)) {
        if (args.value("out").empty() || lowerExtension(args.value("out")) != ".npz") throw UsageError{"missing --out FILE.npz"};
        const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
        return runTextDump(args, *model);
    }
    const std::string inputPath = args.positional(1, "INPUT (an image or a float32 [1,3,H,W] .npy)");
    const std::string outPath = args.value("out");
    if (outPath.empty() || lowerExtension(outPath) != ".npz") throw UsageError{"missing --out FILE.npz"};
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    if (!model->accepts(InputKind::Image)) throw Error(modelPath, spec.architecture + " takes text: pass --text \"...\" or token ids with --ids FILE.npy");
    const ImageInput input = loadImageInput(inputPath, spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    if (args.has("layer")) request.layers = {args.intValue("layer", 0)};
    const ModelOutputs out = model->run(input, request);

    std::vector<std::pair<std::string, NpyArray>> arrays;
    arrays.emplace_back("logits", NpyArray::fromFloats({1, int64_t(out.logits.size())}, out.logits));
    for (const AttentionLayer& layer : out.attention.layers) {
        arrays.emplace_back("attention_" + std::to_string(layer.layer),
                            NpyArray::fromFloats({int64_t(layer.heads.size()), layer.tokens, layer.tokens}, layer.allValues()));
    }
    arrays.emplace_back("tokens", NpyArray::fromString(out.attention.tokens.toJson().dump()));
    writeNpz(outPath, arrays);
    printTopClasses(spec, out, 3);
    std::cout << "wrote " << outPath << " (logits, " << out.attention.layers.size() << " attention layers, tokens)\n";
    return 0;
}

}  // namespace fovea::cli
