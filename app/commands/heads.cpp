// fovea heads: the head atlas of a model from the command line -- per-head features over a set
// of inputs, taxonomy labels, clusters with names, a 2D embedding, and attention sinks -- as CSV
// or JSON (core/heads). Images, generated shapes scenes, token ids or text, or random repeated
// token sequences (the induction-head probe).
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/commands/text.h"
#include "app/console_progress.h"
#include "core/data/shapes_scene.h"
#include "core/heads/attention_sinks.h"
#include "core/heads/head_atlas.h"
#include "core/heads/head_features_device.h"
#include "core/heads/head_report.h"
#include "core/heads/importance.h"
#include "core/model/registry.h"
#include "core/train/train_demo.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace fovea::cli {

namespace {

std::string lowerExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
    return extension;
}

std::vector<int> parseLayers(const Args& args) {
    std::vector<int> layers;
    for (const std::string& value : args.values("layer")) {
        std::stringstream list(value);
        std::string item;
        while (std::getline(list, item, ',')) {
            try {
                std::size_t used = 0;
                layers.push_back(std::stoi(item, &used));
                if (used != item.size()) throw std::invalid_argument(item);
            } catch (const std::exception&) {
                throw UsageError{
                    "--layer takes layer numbers (\"--layer 3\" or \"--layer 0,5,11\"), not '" +
                    item + "'"};
            }
        }
    }
    return layers;
}

// CLIP keeps the text tower's attention apart; GPT-2 and BERT in `attention`.
const AttentionStack& textStack(const ModelOutputs& out) {
    return out.textAttention.empty() ? out.attention : out.textAttention;
}

struct Collected {
    HeadFeatureAccumulator features;
    HeadFeatureOptions options;
    std::string device;  // where the model runs: the feature pass runs there too
    std::vector<nlohmann::json> sinks;
    std::string modality;
    Collected(const HeadFeatureOptions& featureOptions, std::string runtimeDevice)
        : features(featureOptions), options(featureOptions), device(std::move(runtimeDevice)) {}
};

void addInput(Collected& collected, const AttentionStack& stack,
              const std::vector<std::int64_t>& ids, const std::string& name,
              const SinkOptions& sinkOptions, double normFactor) {
    if (stack.empty()) throw Error(name + ": the model returned no attention");
    std::vector<std::vector<float>> norms = valueNorms(stack);
    bool anyNorms = false;
    for (const auto& layerNorms : norms) anyNorms = anyNorms || !layerNorms.empty();
    if (!anyNorms) norms.clear();
    if (collected.device == "cpu")
        collected.features.add(stack, ids, norms);
    else  // a GPU: every head's rows at once (core/heads/head_features_device.h)
        collected.features.addMeasured(
            stack, measureHeadRows(stack, collected.device, collected.options, ids), ids, norms);
    const SinkAnalysis sinks = analyzeAttentionSinks(stack, sinkOptions);
    nlohmann::json entry;
    if (anyNorms) {
        std::vector<int> layers;
        for (const AttentionLayer& layer : stack.layers) layers.push_back(layer.layer);
        const HighNormTokens high = highNormTokens(valueNorms(stack), layers, normFactor);
        entry = sinkAnalysisJson(sinks, stack.tokens, &high);
    } else {
        entry = sinkAnalysisJson(sinks, stack.tokens);
    }
    entry["input"] = name;
    collected.sinks.push_back(entry);
}

void printSummary(const HeadAtlas& atlas, const std::vector<nlohmann::json>& sinks) {
    const HeadFeatureTable& table = atlas.features;
    std::printf("%zu heads over %d input%s; k = %d clusters (silhouette %.3f)\n",
                table.heads.size(), table.inputs, table.inputs == 1 ? "" : "s", atlas.clusters.k,
                atlas.clusters.silhouette);
    for (int c = 0; c < atlas.clusters.k; ++c) {
        int members = 0;
        for (int a : atlas.clusters.assignment) members += a == c ? 1 : 0;
        std::printf("  cluster %d: %-28s %d heads\n", c, atlas.clusterNames[std::size_t(c)].c_str(),
                    members);
    }
    const char* unit = table.grid ? "px" : "tok";
    std::printf("  layer head  %-30s cluster  entropy  distance   cls/first  self   sink\n",
                "labels");
    for (std::size_t i = 0; i < table.heads.size(); ++i) {
        const HeadSummary& h = table.heads[i];
        const std::string labels = joinHeadLabels(atlas.labels[i]);
        const float share = std::isnan(h.mean[HeadFeature::ClsShare])
                                ? h.mean[HeadFeature::FirstTokenShare]
                                : h.mean[HeadFeature::ClsShare];
        std::printf("  %5d %4d  %-30s %7d  %7.3f  %6.2f %-3s  %6.3f   %6.3f %6.3f\n", h.layer,
                    h.head, labels.empty() ? "-" : labels.c_str(), atlas.clusters.assignment[i],
                    double(h.mean[HeadFeature::Entropy]), double(h.mean[HeadFeature::MeanDistance]),
                    unit, double(share), double(h.mean[HeadFeature::SelfShare]),
                    double(h.mean[HeadFeature::SinkShare]));
    }
    if (!sinks.empty()) {
        const nlohmann::json& first = sinks.front();
        std::printf("sinks of %s (tau %.2f):", first["input"].get<std::string>().c_str(),
                    first["tau"].get<double>());
        if (first["sinks"].empty()) std::printf(" none");
        for (const auto& s : first["sinks"]) {
            std::printf(" %s (%s, layers %d-%d, peak %.2f)", s["label"].get<std::string>().c_str(),
                        s["kind"].get<std::string>().c_str(), s["first_layer"].get<int>(),
                        s["last_layer"].get<int>(), s["peak_mass"].get<double>());
        }
        std::printf("\n");
    }
}

}  // namespace

int runHeadsCommand(const Arguments& arguments) {
    const Args args(
        arguments,
        joinNames(joinNames({"out", "layer", "k", "cluster", "embedding", "tau", "scenes",
                             "probe-repeat", "probes", "seed", "norm-factor", "perplexity"},
                            runtimeOptionNames()),
                  textOptionNames()),
        {"importance"});
    const std::string modelPath = args.positional(0, "MODEL");
    const std::string outPath = args.value("out");
    const std::string extension = lowerExtension(outPath);
    if (outPath.empty() || (extension != ".csv" && extension != ".json"))
        throw UsageError{"missing --out heads.csv|heads.json"};
    HeadAtlasOptions atlasOptions;
    atlasOptions.clusters.k = args.intValue("k", 0);
    if (atlasOptions.clusters.k < 0 || atlasOptions.clusters.k == 1)
        throw UsageError{"--k must be 2 or more (or 0: by silhouette)"};
    const std::string method = args.value("cluster", "kmeans");
    if (method != "kmeans" && method != "ward")
        throw UsageError{"--cluster must be kmeans or ward"};
    atlasOptions.clusters.method = method == "ward" ? ClusterMethod::Ward : ClusterMethod::KMeans;
    atlasOptions.embedding = headEmbeddingFromName(args.value("embedding", "pca"));
    atlasOptions.tsne.perplexity = args.doubleValue("perplexity", atlasOptions.tsne.perplexity);
    SinkOptions sinkOptions;
    sinkOptions.tau = args.doubleValue("tau", 0.2);
    if (!(sinkOptions.tau > 0.0 && sinkOptions.tau < 1.0))
        throw UsageError{"--tau must be between 0 and 1"};
    atlasOptions.thresholds.sinkTau = sinkOptions.tau;
    const double normFactor = args.doubleValue("norm-factor", 3.0);

    const RuntimeOptions runtime = runtimeFromArgs(args);
    const std::unique_ptr<Model> model = openModel(modelPath, runtime);
    const ModelSpec& spec = model->spec();
    if (spec.isConvolutional())
        throw Error(modelPath, spec.architecture + " is a CNN: it has no attention heads");
    HeadFeatureOptions featureOptions;
    featureOptions.patchSizePixels = spec.patchSize;
    featureOptions.sinkTau = sinkOptions.tau;
    Collected collected(featureOptions, resolveDevice(runtime.device));
    CaptureRequest request;
    request.layers = parseLayers(args);
    request.precision = AttentionPrecision::Float32;

    const std::vector<std::string> images(args.positional().begin() + 1, args.positional().end());
    // --importance: the images (scenes with their true class) also go to the head-masking
    // importance (core/heads/importance.h), whose numbers join each head's row.
    const bool withImportance = args.has("importance");
    if (withImportance && args.has("layer"))
        throw UsageError{"--importance covers every head; leave out --layer"};
    std::vector<ImportanceSample> samples;
    const bool textInputs = hasTextInput(args) || args.has("probe-repeat");
    if (textInputs && (!images.empty() || args.has("scenes")))
        throw UsageError{
            "give images / --scenes or a text input (--ids, --text, --probe-repeat), not both"};
    if (textInputs) {
        if (!model->accepts(InputKind::Text))
            throw Error(modelPath, spec.architecture + " takes images, not text");
        if (args.has("probe-repeat")) {
            // TransformerLens's induction probe: [start] + r + r for random tokens r.
            for (const TextInput& text : repeatedProbeInputs(args, spec, 4)) {
                const ModelOutputs out = model->runText(text, request);
                addInput(collected, textStack(out), text.ids, text.source, sinkOptions, normFactor);
            }
        } else {
            const TextInput text = textInputFromArgs(args, spec);
            const ModelOutputs out = model->runText(text, request);
            addInput(collected, textStack(out), text.ids, text.source, sinkOptions, normFactor);
        }
    } else {
        if (!model->accepts(InputKind::Image))
            throw Error(modelPath,
                        spec.architecture + " takes text: pass --ids, --text or --probe-repeat");
        request.values = true;  // value norms: the attended-norm feature and the high-norm tokens
        if (images.empty() && !args.has("scenes"))
            throw UsageError{"give INPUTS (images) or --scenes N"};
        for (const std::string& path : images) {
            const ImageInput input = loadImageInput(path, spec);
            addInput(collected, model->run(input, request).attention, {}, path, sinkOptions,
                     normFactor);
            if (withImportance) samples.push_back({input, -1});
        }
        const int scenes = args.intValue("scenes", 0);
        if (scenes < 0) throw UsageError{"--scenes must be positive"};
        SceneOptions sceneOptions;
        sceneOptions.size = spec.imageHeight;
        for (int s = 0; s < scenes; ++s) {
            const std::uint64_t seed =
                kHeldOutSeedOffset + std::uint64_t(args.intValue("seed", 1)) + std::uint64_t(s);
            const Scene scene = generateScene(seed, sceneOptions);
            const ImageInput input =
                makeImageInput(scene.image, spec, "scene " + std::to_string(seed));
            addInput(collected, model->run(input, request).attention, {}, input.source, sinkOptions,
                     normFactor);
            if (withImportance) samples.push_back({input, scene.label});
        }
    }

    if (withImportance && samples.empty())
        throw UsageError{
            "--importance needs images or --scenes (head masking is for image classifiers)"};
    const HeadAtlas atlas = buildHeadAtlas(collected.features.table(), atlasOptions);
    std::vector<HeadColumn> extra;
    if (withImportance) {
        ConsoleProgress progress;
        const HeadImportanceReport report =
            computeHeadImportance(*model, samples, HeadImportanceOptions{}, progress);
        HeadColumn accuracy{"importance_accuracy_delta", {}},
            confidence{"importance_confidence_delta", {}}, kl{"importance_kl", {}},
            gradient{"importance_gradient_proxy", {}}, rank{"importance_rank", {}};
        for (const HeadSummary& h : atlas.features.heads) {
            const HeadImportance& i =
                report.heads.at(std::size_t(h.layer * report.headsPerLayer + h.head));
            accuracy.values.push_back(i.accuracyDelta);
            confidence.values.push_back(i.confidenceDelta);
            kl.values.push_back(i.klDivergence);
            gradient.values.push_back(i.gradientProxy);
            rank.values.push_back(i.rank);
        }
        extra = {accuracy, confidence, kl, gradient, rank};
        std::printf("importance over %d inputs (accuracy %.3f); most important: ", report.inputs,
                    report.baseAccuracy);
        const std::vector<int> order = report.ranking();
        for (std::size_t r = 0; r < std::min<std::size_t>(5, order.size()); ++r) {
            const HeadImportance& i = report.heads[std::size_t(order[r])];
            std::printf("%sL%d h%d (%+.3f)", r ? ", " : "", i.layer, i.head, i.accuracyDelta);
        }
        std::printf("\n");
    }
    if (extension == ".csv") {
        writeHeadCsv(outPath, atlas, extra);
    } else {
        nlohmann::json doc = headAtlasJson(atlas, extra);
        doc["model"] = spec.architecture;
        doc["model_path"] = spec.sourcePath;
        doc["cluster_method"] = clusterMethodName(atlasOptions.clusters.method);
        doc["sinks"] = collected.sinks;
        std::ofstream out(outPath);
        if (!out) throw Error(outPath, "cannot write");
        out << doc.dump(1) << "\n";
    }
    printSummary(atlas, collected.sinks);
    std::cout << "wrote " << outPath << "\n";
    return 0;
}

}  // namespace fovea::cli
