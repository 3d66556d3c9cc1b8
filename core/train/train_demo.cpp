#include "core/train/train_demo.h"

#include "core/explain/attention_maps.h"
#include "core/explain/pointing_game.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"
#include "core/model/runtime.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>

namespace fovea {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

ModelSpec demoSpec(const DemoTrainingOptions& options) {
    ModelSpec spec;
    spec.family = "vit";
    spec.layout = "timm";
    spec.architecture = "fovea_shapes_vit";
    spec.imageHeight = spec.imageWidth = options.scene.size;
    spec.patchSize = options.patchSize;
    spec.embedDim = options.embedDim;
    spec.depth = options.depth;
    spec.numHeads = options.numHeads;
    spec.mlpHidden = options.embedDim * options.mlpRatio;
    spec.labels = shapeClassNames();
    spec.numClasses = int(spec.labels.size());
    spec.preprocessing = Preprocessing::fromTimm(demoPretrainedConfig(options.scene.size));
    return spec;
}

nlohmann::json configJson(const ModelSpec& spec, const DemoTrainingOptions& options) {
    return {{"architecture", spec.architecture},
            {"num_classes", spec.numClasses},
            {"label_names", spec.labels},
            {"model_args",
             {{"img_size", spec.imageHeight},
              {"patch_size", spec.patchSize},
              {"embed_dim", spec.embedDim},
              {"depth", spec.depth},
              {"num_heads", spec.numHeads},
              {"mlp_ratio", options.mlpRatio},
              {"num_classes", spec.numClasses},
              {"qkv_bias", true},
              {"global_pool", "token"}}},
            {"pretrained_cfg", demoPretrainedConfig(options.scene.size)}};
}

// Training scenes come from seeds below kHeldOutSeedOffset, so held-out scenes are never seen.
std::uint64_t trainingSeed(const DemoTrainingOptions& options, int step, int item) {
    const std::uint64_t index = std::uint64_t(step) * std::uint64_t(options.batchSize) + std::uint64_t(item);
    return (options.seed * 1000003ULL + index) % kHeldOutSeedOffset;
}

double learningRateAt(const DemoTrainingOptions& options, int step) {
    if (step < options.warmupSteps) return options.learningRate * double(step + 1) / options.warmupSteps;
    const double progress = double(step - options.warmupSteps) / std::max(1, options.steps - options.warmupSteps);
    const double floor = 0.02;
    return options.learningRate * (floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

void writeReportMarkdown(const std::string& path, const nlohmann::json& report) {
    std::ofstream out(path);
    if (!out) throw Error(path, "cannot write the training report");
    const nlohmann::json& eval = report["evaluation"];
    const nlohmann::json& pointing = eval["pointing_game"];
    out << "# shapes-vit: training report\n\n"
        << "Trained by `fovea train-demo shapes-vit` (LibTorch " << report["libtorch"].get<std::string>() << ", "
        << report["threads"].get<int>() << " CPU threads) in " << std::fixed << std::setprecision(0)
        << report["seconds"].get<double>() << " s.\n\n"
        << "- Data: procedural shapes-in-clutter scenes (`core/data/shapes_scene`), " << report["options"]["scene_size"].get<int>()
        << "x" << report["options"]["scene_size"].get<int>() << " px, classes "
        << report["labels"].dump() << "; the label is the class of the one large target shape.\n"
        << "- Training scenes: seeds derived from " << report["options"]["seed"].get<std::uint64_t>() << ", "
        << report["options"]["steps"].get<int>() << " steps x batch " << report["options"]["batch_size"].get<int>() << " = "
        << report["training_scenes"].get<std::int64_t>() << " scenes, never repeated.\n"
        << "- Held-out scenes: seeds " << kHeldOutSeedOffset << " + i (disjoint from training).\n\n"
        << "| measure | value |\n|---|---|\n" << std::setprecision(4)
        << "| held-out accuracy (" << eval["accuracy_scenes"].get<int>() << " scenes) | " << eval["accuracy"].get<double>() << " |\n";
    for (auto& [tolerance, entry] : pointing.items()) {
        out << "| pointing game, tolerance " << tolerance << ": last-layer CLS attention (head mean) | "
            << entry["cls_last_layer"].get<double>() << " |\n"
            << "| pointing game, tolerance " << tolerance << ": attention rollout | " << entry["rollout"].get<double>() << " |\n"
            << "| pointing game, tolerance " << tolerance << ": centre baseline | " << entry["centre_baseline"].get<double>() << " |\n";
    }
    out << "\nPointing game (Zhang et al. 2016): a hit when the map's maximum (after bilinear upsampling to the image) "
           "lies on the target mask or within the tolerance of it; accuracy averaged over classes, on "
        << eval["pointing_scenes"].get<int>()
        << " held-out scenes. 15 px is the paper's tolerance at 224 px; the scene is much smaller, so the strict (0 px) "
           "number is the informative one. The centre baseline always points at the image centre.\n";
}

nlohmann::json sceneOptionsToJson(const SceneOptions& scene) {
    return {{"size", scene.size},
            {"distractors", {scene.minDistractors, scene.maxDistractors}},
            {"target_size", {scene.targetMinSize, scene.targetMaxSize}},
            {"distractor_size", {scene.distractorMinSize, scene.distractorMaxSize}},
            {"textured_background", scene.texturedBackground}};
}

}  // namespace

nlohmann::json demoPretrainedConfig(int size) {
    return {{"input_size", {3, size, size}},
            {"mean", {0.5, 0.5, 0.5}},
            {"std", {0.5, 0.5, 0.5}},
            {"interpolation", "bilinear"},
            {"crop_pct", 1.0}};
}

nlohmann::json evaluateShapesModel(const std::string& modelPath, int accuracyScenes, int pointingScenes,
                                   const SceneOptions& sceneOptions, Progress& progress) {
    std::unique_ptr<Model> model = openModel(modelPath);
    const ModelSpec& spec = model->spec();
    const int classes = spec.numClasses;
    const std::vector<double> tolerances = {0.0, 15.0};
    std::vector<PointingGame> cls(tolerances.size(), PointingGame(classes));
    std::vector<PointingGame> rollout(tolerances.size(), PointingGame(classes));
    std::vector<PointingGame> centre(tolerances.size(), PointingGame(classes));
    int correct = 0;
    const int total = std::max(accuracyScenes, pointingScenes);
    for (int i = 0; i < total; ++i) {
        const Scene scene = generateScene(kHeldOutSeedOffset + std::uint64_t(i), sceneOptions);
        const ImageInput input = makeImageInput(scene.image, spec);
        const bool point = i < pointingScenes;
        const ModelOutputs out = model->run(input, point ? CaptureRequest() : CaptureRequest::nothing());
        if (i < accuracyScenes && out.topClass() == scene.label) ++correct;
        if (point) {
            const int query = out.attention.tokens.firstOf(TokenKind::Cls);
            const cv::Mat clsMap = rawAttentionMap(out.attention, spec.depth - 1, HeadSelection{}, query);
            const cv::Mat rolloutGrid = rolloutMap(out.attention, HeadSelection{}, 0.0f, query);
            cv::Mat centreMap = cv::Mat::zeros(scene.image.rows, scene.image.cols, CV_32F);
            centreMap.at<float>(scene.image.rows / 2, scene.image.cols / 2) = 1.0f;
            for (std::size_t t = 0; t < tolerances.size(); ++t) {
                cls[t].add(scene.label, pointingHit(clsMap, scene.targetMask, tolerances[t]));
                rollout[t].add(scene.label, pointingHit(rolloutGrid, scene.targetMask, tolerances[t]));
                centre[t].add(scene.label, pointingHit(centreMap, scene.targetMask, tolerances[t]));
            }
        }
        if (!progress.update(double(i + 1) / total, "evaluating")) throw Cancelled();
    }
    nlohmann::json pointing = nlohmann::json::object();
    for (std::size_t t = 0; t < tolerances.size(); ++t) {
        pointing[std::to_string(int(tolerances[t])) + "px"] = {{"cls_last_layer", cls[t].meanAccuracy()},
                                                               {"rollout", rollout[t].meanAccuracy()},
                                                               {"centre_baseline", centre[t].meanAccuracy()}};
    }
    return {{"accuracy", accuracyScenes ? double(correct) / accuracyScenes : 0.0},
            {"accuracy_scenes", accuracyScenes},
            {"pointing_scenes", pointingScenes},
            {"pointing_game", pointing}};
}

DemoTrainingReport trainShapesVit(const DemoTrainingOptions& options, Progress& progress, std::ostream& log) {
    if (options.steps <= 0 || options.batchSize <= 0) throw Error("train-demo: steps and batch size must be positive");
    RuntimeOptions runtime;
    runtime.threads = options.threads;
    applyRuntimeOptions(runtime);
    const auto start = Clock::now();
    const ModelSpec spec = demoSpec(options);
    VitModel model(spec, initializeVitWeights(spec, options.seed), "cpu");

    std::vector<at::Tensor> decay, noDecay;
    for (auto& [name, tensor] : model.weights().namedTensors()) {
        tensor->requires_grad_(true);
        // Weight decay on matrices only (not biases, norms, tokens or position embeddings), as timm does.
        (tensor->dim() >= 2 && name != "pos_embed" && name != "cls_token" ? decay : noDecay).push_back(*tensor);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(options.learningRate).weight_decay(options.weightDecay)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(options.learningRate).weight_decay(0.0)));
    torch::optim::AdamW optimizer(groups, torch::optim::AdamWOptions(options.learningRate));
    std::vector<at::Tensor> parameters = decay;
    parameters.insert(parameters.end(), noDecay.begin(), noDecay.end());

    const int size = options.scene.size;
    const std::size_t imageFloats = std::size_t(3) * size * size;
    std::vector<float> pixels(imageFloats * std::size_t(options.batchSize));
    std::vector<std::int64_t> labels(std::size_t(options.batchSize));
    double lossSum = 0.0;
    int correctSum = 0, seenSum = 0;
    log << "training shapes-vit: " << spec.depth << " layers, " << spec.numHeads << " heads, width " << spec.embedDim
        << ", " << options.steps << " steps x batch " << options.batchSize << ", " << runtimeThreads() << " threads\n";
    for (int step = 0; step < options.steps; ++step) {
        for (int item = 0; item < options.batchSize; ++item) {
            const Scene scene = generateScene(trainingSeed(options, step, item), options.scene);
            const std::vector<float> image = preprocessImage(scene.image, spec.preprocessing);
            std::copy(image.begin(), image.end(), pixels.begin() + std::ptrdiff_t(imageFloats * std::size_t(item)));
            labels[std::size_t(item)] = scene.label;
        }
        const at::Tensor batch = torch::from_blob(pixels.data(), {options.batchSize, 3, size, size}, at::kFloat);
        const at::Tensor target = torch::from_blob(labels.data(), {options.batchSize}, at::kLong);
        const double rate = learningRateAt(options, step);
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
        optimizer.zero_grad();
        const at::Tensor logits = model.forward(batch);
        const at::Tensor loss = torch::nn::functional::cross_entropy(
            logits, target, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(parameters, 1.0);
        optimizer.step();
        lossSum += loss.item<double>();
        correctSum += int(logits.argmax(1).eq(target).sum().item<int64_t>());
        seenSum += options.batchSize;
        if ((step + 1) % 100 == 0 || step + 1 == options.steps) {
            log << "step " << std::setw(5) << step + 1 << "  loss " << std::fixed << std::setprecision(4) << lossSum / 100.0
                << "  batch accuracy " << std::setprecision(3) << double(correctSum) / seenSum << "  lr " << std::scientific
                << std::setprecision(2) << rate << std::defaultfloat << "  " << std::fixed << std::setprecision(0)
                << secondsSince(start) << " s" << std::defaultfloat << std::endl;
            lossSum = 0.0;
            correctSum = seenSum = 0;
        }
        if (!progress.update(0.9 * double(step + 1) / options.steps, "training")) throw Cancelled();
    }
    const double trainingSeconds = secondsSince(start);

    std::filesystem::create_directories(options.outputDir);
    for (auto& [name, tensor] : model.weights().namedTensors()) tensor->requires_grad_(false);
    model.saveSafetensors(options.outputDir + "/model.safetensors",
                          {{"format", "pt"}, {"producer", "fovea train-demo shapes-vit"}});
    writeJsonFile(options.outputDir + "/config.json", configJson(spec, options));

    log << "evaluating on held-out scenes\n";
    NullProgress quiet;
    nlohmann::json evaluation = evaluateShapesModel(options.outputDir, options.heldOutScenes, options.pointingScenes,
                                                    options.scene, quiet);
    DemoTrainingReport report;
    report.seconds = secondsSince(start);
    report.heldOutAccuracy = evaluation["accuracy"].get<double>();
    report.pointingClsLastLayer = evaluation["pointing_game"]["0px"]["cls_last_layer"].get<double>();
    report.pointingRollout = evaluation["pointing_game"]["0px"]["rollout"].get<double>();
    report.json = {{"model", "shapes-vit"},
                   {"libtorch", TORCH_VERSION},
                   {"threads", runtimeThreads()},
                   {"seconds", report.seconds},
                   {"training_seconds", trainingSeconds},
                   {"training_scenes", std::int64_t(options.steps) * options.batchSize},
                   {"labels", spec.labels},
                   {"options",
                    {{"seed", options.seed},
                     {"steps", options.steps},
                     {"batch_size", options.batchSize},
                     {"learning_rate", options.learningRate},
                     {"weight_decay", options.weightDecay},
                     {"warmup_steps", options.warmupSteps},
                     {"label_smoothing", 0.1},
                     {"embed_dim", options.embedDim},
                     {"depth", options.depth},
                     {"num_heads", options.numHeads},
                     {"patch_size", options.patchSize},
                     {"mlp_ratio", options.mlpRatio},
                     {"scene_size", options.scene.size},
                     {"scene", sceneOptionsToJson(options.scene)}}},
                   {"evaluation", evaluation}};
    writeJsonFile(options.outputDir + "/training_report.json", report.json);
    writeReportMarkdown(options.outputDir + "/REPORT.md", report.json);
    progress.update(1.0, "done");
    return report;
}

}  // namespace fovea
