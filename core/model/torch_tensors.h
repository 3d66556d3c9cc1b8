// Internal (core .cpp files only): conversion between Fovea's torch-free tensor types
// (safetensors views, .npy arrays) and LibTorch tensors.
#pragma once

#include "core/io/safetensors.h"

#include <ATen/core/Tensor.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

// A float32 copy of a stored tensor (F16 / BF16 / F64 are converted), on the CPU.
at::Tensor toFloatTensor(const TensorView& view);
// The shape check every loader needs, with a message naming the file and tensor.
void expectShape(const std::string& file, const std::string& name, const at::Tensor& tensor,
                 const std::vector<int64_t>& shape);
// Float32 CPU copy of a tensor as safetensors data (for saving).
TensorData toTensorData(const std::string& name, const at::Tensor& tensor);

// Hands out a checkpoint's tensors by name (float32, CPU) and remembers which were used, so a
// loader can report leftovers instead of silently running a different network:
//
//     TensorTaker taker(*source.weights, "this ViT variant");
//     at::Tensor w = taker.take("patch_embed.proj.weight");  // Error naming file and tensor if absent
//     taker.expectAllUsed();  // "...: unexpected tensor 'x': this ViT variant is not supported ..."
class TensorTaker {
public:
    // `what` names the kind of network in the leftover message ("this ViT variant").
    TensorTaker(const SafetensorsFile& file, std::string what) : m_file(file), m_what(std::move(what)) {}
    bool has(const std::string& name) const { return m_file.find(name) != nullptr; }
    at::Tensor take(const std::string& name);
    at::Tensor takeIfPresent(const std::string& name) { return has(name) ? take(name) : at::Tensor(); }
    void ignore(const std::string& name) { m_used.insert(name); }
    std::vector<int64_t> shape(const std::string& name) const;
    // Throws Error naming the first tensor nothing consumed.
    void expectAllUsed() const;

private:
    const SafetensorsFile& m_file;
    std::string m_what;
    std::set<std::string> m_used;
};

}  // namespace fovea
