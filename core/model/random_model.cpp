#include "core/model/random_model.h"

#include "core/io/json_file.h"
#include "core/model/vit.h"
#include "core/util/error.h"

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

}  // namespace fovea
