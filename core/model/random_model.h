// Checkpoints with random weights for well-known architectures, written in layouts Fovea loads
// (model.safetensors + config.json). For benchmarks, responsiveness tests and model tests with
// realistic sizes on machines that cannot download weights.
//
//     writeRandomVitCheckpoint("/tmp/vit_small", "vit_small_patch16_224", /*seed*/ 1);
//     writeRandomResnetCheckpoint("/tmp/resnet50", "resnet50", /*seed*/ 1);  // torchvision layout
#pragma once

#include "core/model/model_spec.h"

#include <cstdint>
#include <string>

namespace fovea {

// Throws fovea::Error for a name the timm table does not know.
void writeRandomVitCheckpoint(const std::string& directory, const std::string& timmName, std::uint64_t seed,
                              int numClasses = 10);

// A ResNet by torchvision name (resnet18/34/50/101/152, resnext50_32x4d, wide_resnet50_2, ...)
// in the "torchvision" (no config.json), "timm" (config.json with architecture and
// pretrained_cfg) or "huggingface" (ResNetForImageClassification names, config.json and
// preprocessor_config.json) layout. Batch norms get random running statistics, so none is the
// identity. Throws fovea::Error for an unknown name or layout.
void writeRandomResnetCheckpoint(const std::string& directory, const std::string& name, std::uint64_t seed,
                                 int numClasses = 10, const std::string& layout = "torchvision");
// Any shape (tests): the spec's blockType, stageBlocks, stageWidths, stemWidth, groups,
// widthPerGroup, channels, numClasses, labels and architecture are used. The same spec and
// seed give the same weights in every layout.
void writeRandomResnetCheckpoint(const std::string& directory, const ModelSpec& spec, std::uint64_t seed,
                                 const std::string& layout = "torchvision");

}  // namespace fovea
