// Checkpoints with random weights for well-known timm architectures, written as the timm
// layout Fovea loads (model.safetensors + config.json). For benchmarks and responsiveness
// tests with realistic sizes on machines that cannot download weights.
//
//     writeRandomVitCheckpoint("/tmp/vit_small", "vit_small_patch16_224", /*seed*/ 1);
#pragma once

#include <cstdint>
#include <string>

namespace fovea {

// Throws fovea::Error for a name the timm table does not know.
void writeRandomVitCheckpoint(const std::string& directory, const std::string& timmName, std::uint64_t seed,
                              int numClasses = 10);

}  // namespace fovea
