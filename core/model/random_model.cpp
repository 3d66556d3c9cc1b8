#include "core/model/random_model.h"

#include "core/io/json_file.h"
#include "core/model/resnet.h"
#include "core/model/torch_tensors.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <cstring>
#include <filesystem>

namespace fovea {

void writeRandomVitCheckpoint(const std::string& directory, const std::string& timmName, std::uint64_t seed,
                              int numClasses) {
    const std::optional<ModelSpec> spec = specFromTimmName(timmName, numClasses);
    if (!spec) throw Error(timmName, "not a timm ViT name Fovea knows");
    std::filesystem::create_directories(directory);
    const VitModel model(*spec, initializeVitWeights(*spec, seed), "cpu");
    model.saveSafetensors(directory + "/model.safetensors", {{"format", "pt"}, {"producer", "fovea random weights"}});
    writeJsonFile(directory + "/config.json",
                  {{"architecture", timmName},
                   {"num_classes", numClasses},
                   {"pretrained_cfg",
                    {{"input_size", {3, spec->imageHeight, spec->imageWidth}},
                     {"interpolation", "bicubic"},
                     {"crop_pct", 0.9},
                     {"mean", {0.485, 0.456, 0.406}},
                     {"std", {0.229, 0.224, 0.225}}}}});
}

void writeRandomResnetCheckpoint(const std::string& directory, const std::string& name, std::uint64_t seed,
                                 int numClasses, const std::string& layout) {
    const std::optional<ModelSpec> spec = specFromResnetName(name, numClasses);
    if (!spec) throw Error(name, "not a torchvision ResNet name Fovea knows (resnet18, resnet50, resnext50_32x4d, ...)");
    writeRandomResnetCheckpoint(directory, *spec, seed, layout);
}

void writeRandomResnetCheckpoint(const std::string& directory, const ModelSpec& spec, std::uint64_t seed,
                                 const std::string& layout) {
    if (layout != "torchvision" && layout != "timm" && layout != "huggingface") {
        throw Error(layout, "not a ResNet layout (torchvision, timm, huggingface)");
    }
    if (layout == "huggingface" && (spec.groups != 1 || spec.widthPerGroup != 64)) {
        throw Error(directory, "Hugging Face's ResNet has no grouped or widened bottlenecks; use the torchvision layout");
    }
    ResnetWeights weights = initializeResnetWeights(spec, seed);
    const ResnetNaming naming(layout);
    std::vector<TensorData> tensors;
    for (auto& [name, tensor] : namedResnetTensors(weights, naming)) {
        tensors.push_back(toTensorData(name, *tensor));
        const std::string suffix = "running_var";
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            // As PyTorch saves it: a 0-d int64 counter beside every batch norm's statistics.
            TensorData counter;
            counter.name = name.substr(0, name.size() - suffix.size()) + "num_batches_tracked";
            counter.dtype = DType::I64;
            const std::int64_t steps = 1000;
            counter.bytes.resize(sizeof steps);
            std::memcpy(counter.bytes.data(), &steps, sizeof steps);
            tensors.push_back(std::move(counter));
        }
    }
    std::filesystem::create_directories(directory);
    writeSafetensors(directory + "/model.safetensors", tensors, {{"format", "pt"}, {"producer", "fovea random weights"}});
    const std::string configPath = directory + "/config.json";
    std::filesystem::remove(configPath);
    std::filesystem::remove(directory + "/preprocessor_config.json");
    const nlohmann::json imagenetMean = {0.485, 0.456, 0.406}, imagenetStd = {0.229, 0.224, 0.225};
    if (layout == "timm") {
        nlohmann::json config = {{"architecture", spec.architecture.empty() ? "resnet" : spec.architecture},
                                 {"num_classes", spec.numClasses},
                                 {"num_features", spec.stageWidths.back()},
                                 {"pretrained_cfg",
                                  {{"input_size", {spec.channels, 224, 224}},
                                   {"interpolation", "bicubic"},
                                   {"crop_pct", 0.95},
                                   {"crop_mode", "center"},
                                   {"mean", imagenetMean},
                                   {"std", imagenetStd},
                                   {"first_conv", "conv1"},
                                   {"classifier", "fc"}}}};
        if (!spec.labels.empty()) config["label_names"] = spec.labels;
        writeJsonFile(configPath, config);
    } else if (layout == "huggingface") {
        nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
        for (int i = 0; i < spec.numClasses; ++i) {
            const std::string label = i < int(spec.labels.size()) ? spec.labels[std::size_t(i)] : "LABEL_" + std::to_string(i);
            id2label[std::to_string(i)] = label;
            label2id[label] = i;
        }
        writeJsonFile(configPath, {{"architectures", {"ResNetForImageClassification"}},
                                   {"model_type", "resnet"},
                                   {"num_channels", spec.channels},
                                   {"embedding_size", spec.stemWidth},
                                   {"hidden_sizes", spec.stageWidths},
                                   {"depths", spec.stageBlocks},
                                   {"layer_type", spec.blockType},
                                   {"hidden_act", "relu"},
                                   {"downsample_in_first_stage", false},
                                   {"id2label", id2label},
                                   {"label2id", label2id}});
        writeJsonFile(directory + "/preprocessor_config.json", {{"image_processor_type", "ConvNextImageProcessor"},
                                                                {"crop_pct", 0.875},
                                                                {"do_normalize", true},
                                                                {"do_resize", true},
                                                                {"image_mean", imagenetMean},
                                                                {"image_std", imagenetStd},
                                                                {"resample", 3},
                                                                {"size", {{"shortest_edge", 224}}}});
    } else if (!spec.labels.empty()) {
        // torchvision checkpoints carry no config; labels are the one thing worth keeping.
        writeJsonFile(configPath, {{"label_names", spec.labels}});
    }
}

}  // namespace fovea
