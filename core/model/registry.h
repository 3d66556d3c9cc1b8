// The model loader registry. Each family (ViT, and later BERT, GPT-2, CLIP, ResNet) sniffs a
// checkpoint cheaply with match() (tensor names and config.json, no weights read) and then
// open()s it. Adding a family touches its own folder and one line in registry.cpp.
//
//     std::unique_ptr<Model> model = openModel("checkpoints/deit_small_patch16_224");
//     // or a single file: openModel("vit.safetensors") (config.json beside it is used if present)
#pragma once

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/runtime.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace fovea {

// A checkpoint on disk, resolved once: the weights (memory-mapped header) and its JSON configs.
struct ModelSource {
    std::string path;                  // what the user gave (folder or file)
    std::string folder;                // the folder the configs are read from
    std::string weightsPath;           // the .safetensors file
    nlohmann::json config;             // config.json (null when absent)
    nlohmann::json preprocessorConfig; // preprocessor_config.json (null when absent)
    std::shared_ptr<SafetensorsFile> weights;

    bool hasTensor(const std::string& name) const { return weights->find(name) != nullptr; }
};

// Throws Error naming the path when it is missing, holds no .safetensors file, or is corrupt.
ModelSource resolveModelSource(const std::string& path);

class ModelFamily {
public:
    virtual ~ModelFamily() = default;
    virtual std::string name() const = 0;
    virtual bool match(const ModelSource& source) const = 0;
    virtual std::unique_ptr<Model> open(const ModelSource& source, const RuntimeOptions& options) const = 0;
};

const std::vector<std::unique_ptr<ModelFamily>>& modelFamilies();

// Resolves, matches and opens; an unknown architecture is an Error that lists what is supported.
std::unique_ptr<Model> openModel(const std::string& path, const RuntimeOptions& options = {});

}  // namespace fovea
