// fovea demo: the shipped shapes-vit model on a generated scene; fovea train-demo: retrain it.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/train/train_induction.h"
#include "core/data/shapes_scene.h"
#include "core/explain/attention_maps.h"
#include "core/image/figure.h"
#include "core/io/image_io.h"
#include "core/model/registry.h"
#include "core/train/train_demo.h"
#include "core/util/error.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace fovea::cli {

namespace fs = std::filesystem;

std::string findDemoModel() {
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv("FOVEA_DEMO_MODEL")) candidates.emplace_back(env);
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error) candidates.push_back(exe.parent_path().parent_path() / "share/fovea/models/shapes-vit");
    candidates.emplace_back(FOVEA_SOURCE_DIR "/resources/models/shapes-vit");
    for (const fs::path& candidate : candidates) {
        if (fs::exists(candidate / "model.safetensors", error)) return candidate.string();
    }
    throw Error(candidates.back().string(), "the demo model is missing; train it with `fovea train-demo shapes-vit`");
}

int runDemoCommand(const Arguments& arguments) {
    const Args args(arguments, joinNames({"out", "seed", "model"}, runtimeOptionNames()), {});
    const std::string modelPath = args.value("model", "");
    const std::string outDir = args.value("out", "fovea-demo");
    const std::uint64_t seed = kHeldOutSeedOffset + std::uint64_t(args.intValue("seed", 7));

    const std::unique_ptr<Model> model = openModel(modelPath.empty() ? findDemoModel() : modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    std::cout << "Fovea demo: " << spec.architecture << " from " << spec.sourcePath << "\n  " << spec.depth << " layers x "
              << spec.numHeads << " heads, " << spec.tokenCount() << " tokens, " << runtimeSummary() << "\n";

    SceneOptions sceneOptions;
    sceneOptions.size = spec.imageHeight;
    const Scene scene = generateScene(seed, sceneOptions);
    const ImageInput input = makeImageInput(scene.image, spec, "scene " + std::to_string(seed));
    const ModelOutputs out = model->run(input, CaptureRequest());
    std::cout << "scene seed " << seed << ": the target is a " << shapeClassNames()[std::size_t(scene.label)] << "\n";
    std::cout << "model says:\n";
    for (const auto& [index, probability] : out.topClasses(3)) {
        std::printf("  %-10s %6.2f%%\n", spec.labelOf(index).c_str(), probability * 100.0);
    }

    fs::create_directories(outDir);
    const int cls = out.attention.tokens.firstOf(TokenKind::Cls);
    struct View {
        std::string file, title;
        cv::Mat map;
    };
    const std::vector<View> views = {
        {"attention.png", "last-layer CLS attention (mean of heads)", rawAttentionMap(out.attention, spec.depth - 1, HeadSelection{}, cls)},
        {"rollout.png", "attention rollout", rolloutMap(out.attention, HeadSelection{}, 0.0f, cls)}};
    writeImage(outDir + "/scene.png", scene.image);
    for (const View& view : views) {
        FigureOptions figure;
        figure.title = view.title + "; predicted " + spec.labelOf(out.topClass());
        writeImage(outDir + "/" + view.file, renderHeatmapFigure(input.view, view.map, figure));
    }
    std::cout << "wrote " << outDir << "/scene.png, " << outDir << "/attention.png, " << outDir << "/rollout.png\n";
    return 0;
}

namespace {

int trainInductionCommand(const Args& args) {
    InductionTrainingOptions options;
    options.outputDir = args.value("out", options.outputDir);
    options.steps = args.intValue("steps", options.steps);
    options.batchSize = args.intValue("batch", options.batchSize);
    options.seed = std::uint64_t(args.intValue("seed", int(options.seed)));
    options.threads = args.intValue("threads", options.threads);
    options.learningRate = args.doubleValue("lr", options.learningRate);
    options.warmupSteps = std::min(options.warmupSteps, std::max(1, options.steps / 10));
    NullProgress progress;
    const InductionTrainingReport report = trainInductionGpt(options, progress, std::cout);
    std::printf("copy accuracy %.4f (fresh positions %.4f); best previous-token head L%dH%d %.3f, best induction head L%dH%d %.3f; "
                "%.0f s on %d threads\n",
                report.copyAccuracy, report.randomAccuracy, report.previousLayer, report.previousHead, double(report.bestPreviousToken),
                report.inductionLayer, report.inductionHead, double(report.bestInduction), report.seconds, options.threads);
    std::cout << "wrote " << options.outputDir << "/{model.safetensors,config.json,training_report.json,REPORT.md}\n";
    return 0;
}

}  // namespace

int runTrainDemoCommand(const Arguments& arguments) {
    const Args args(arguments, {"out", "steps", "batch", "seed", "threads", "lr", "eval-scenes", "pointing-scenes"}, {});
    const std::string which = args.positional(0, "which demo model to train (shapes-vit, induction-gpt)");
    if (which == "induction-gpt") return trainInductionCommand(args);
    if (which != "shapes-vit") throw UsageError{"unknown demo model '" + which + "' (available: shapes-vit, induction-gpt)"};
    DemoTrainingOptions options;
    options.outputDir = args.value("out", options.outputDir);
    options.steps = args.intValue("steps", options.steps);
    options.batchSize = args.intValue("batch", options.batchSize);
    options.seed = std::uint64_t(args.intValue("seed", int(options.seed)));
    options.threads = args.intValue("threads", 0);
    options.learningRate = args.doubleValue("lr", options.learningRate);
    options.heldOutScenes = args.intValue("eval-scenes", options.heldOutScenes);
    options.pointingScenes = args.intValue("pointing-scenes", options.pointingScenes);
    options.warmupSteps = std::min(options.warmupSteps, std::max(1, options.steps / 10));
    NullProgress progress;
    const DemoTrainingReport report = trainShapesVit(options, progress, std::cout);
    std::printf("held-out accuracy %.4f; pointing game (strict): CLS attention %.3f, rollout %.3f; %.0f s\n",
                report.heldOutAccuracy, report.pointingClsLastLayer, report.pointingRollout, report.seconds);
    std::cout << "wrote " << options.outputDir << "/{model.safetensors,config.json,training_report.json,REPORT.md}\n";
    return 0;
}

}  // namespace fovea::cli
