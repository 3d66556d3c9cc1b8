// Internal (core .cpp files only): conversion between Fovea's torch-free tensor types
// (safetensors views, .npy arrays) and LibTorch tensors.
#pragma once

#include "core/io/safetensors.h"

#include <ATen/core/Tensor.h>

#include <string>

namespace fovea {

// A float32 copy of a stored tensor (F16 / BF16 / F64 are converted), on the CPU.
at::Tensor toFloatTensor(const TensorView& view);
// The shape check every loader needs, with a message naming the file and tensor.
void expectShape(const std::string& file, const std::string& name, const at::Tensor& tensor,
                 const std::vector<int64_t>& shape);
// Float32 CPU copy of a tensor as safetensors data (for saving).
TensorData toTensorData(const std::string& name, const at::Tensor& tensor);

}  // namespace fovea
