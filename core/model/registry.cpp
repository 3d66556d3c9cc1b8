#include "core/model/registry.h"

#include "core/io/json_file.h"
#include "core/util/error.h"

#include <filesystem>

namespace fovea {

std::unique_ptr<ModelFamily> makeVitFamily();  // core/model/vit_loader.cpp
std::unique_ptr<ModelFamily> makeResnetFamily();  // core/model/resnet_loader.cpp
std::unique_ptr<ModelFamily> makeGpt2Family();    // core/model/gpt2.cpp
std::unique_ptr<ModelFamily> makeBertFamily();    // core/model/bert.cpp
std::unique_ptr<ModelFamily> makeClipFamily();    // core/model/clip_loader.cpp

namespace fs = std::filesystem;

ModelSource resolveModelSource(const std::string& path) {
    ModelSource source;
    source.path = path;
    std::error_code error;
    if (!fs::exists(path, error)) throw Error(path, "no such file or folder");
    if (fs::is_directory(path, error)) {
        source.folder = path;
        const fs::path preferred = fs::path(path) / "model.safetensors";
        if (fs::exists(preferred, error)) {
            source.weightsPath = preferred.string();
        } else {
            std::vector<fs::path> candidates;
            for (const auto& entry : fs::directory_iterator(path, error)) {
                if (entry.path().extension() == ".safetensors") candidates.push_back(entry.path());
            }
            if (candidates.empty()) {
                throw Error(path, "folder holds no .safetensors weights (Fovea reads safetensors; "
                                  "convert .bin/.pth checkpoints with safetensors' save_file)");
            }
            if (candidates.size() > 1) {
                throw Error(path, "folder holds several .safetensors files (sharded checkpoints are not supported "
                                  "yet); pass the file to use");
            }
            source.weightsPath = candidates.front().string();
        }
    } else {
        if (fs::path(path).extension() != ".safetensors") {
            throw Error(path, "is not a .safetensors file or a model folder (Fovea reads safetensors; "
                              "convert .bin/.pth checkpoints with safetensors' save_file)");
        }
        source.weightsPath = path;
        source.folder = fs::path(path).parent_path().string();
        if (source.folder.empty()) source.folder = ".";
    }
    const fs::path config = fs::path(source.folder) / "config.json";
    if (fs::exists(config, error)) source.config = readJsonFile(config.string());
    const fs::path preprocessor = fs::path(source.folder) / "preprocessor_config.json";
    if (fs::exists(preprocessor, error)) source.preprocessorConfig = readJsonFile(preprocessor.string());
    source.weights = std::make_shared<SafetensorsFile>(SafetensorsFile::open(source.weightsPath));
    return source;
}

const std::vector<std::unique_ptr<ModelFamily>>& modelFamilies() {
    static const std::vector<std::unique_ptr<ModelFamily>> families = [] {
        std::vector<std::unique_ptr<ModelFamily>> list;
        list.push_back(makeVitFamily());
        list.push_back(makeResnetFamily());
        list.push_back(makeGpt2Family());
        list.push_back(makeBertFamily());
        list.push_back(makeClipFamily());
        return list;
    }();
    return families;
}

std::unique_ptr<Model> openModel(const std::string& path, const RuntimeOptions& options) {
    const ModelSource source = resolveModelSource(path);
    for (const auto& family : modelFamilies()) {
        if (family->match(source)) {
            applyRuntimeOptions(options);
            return family->open(source, options);
        }
    }
    std::string names;
    for (const auto& family : modelFamilies()) names += (names.empty() ? "" : ", ") + family->name();
    std::string sample;
    const auto& tensors = source.weights->tensors();
    for (std::size_t i = 0; i < tensors.size() && i < 3; ++i) sample += (i ? ", " : "") + tensors[i].name;
    throw Error(source.weightsPath, "unknown architecture: no model family recognises tensors like " +
                                        (sample.empty() ? std::string("(none)") : sample) +
                                        "; supported families: " + names);
}

}  // namespace fovea
