// Internal (core .cpp files only): what the model-level explainers (cam.cpp, attribution.cpp)
// share — the torch view of the context's model and input, channel reduction of pixel
// attributions, and the registry lists each file contributes.
#pragma once

#include "core/explain/explainer.h"
#include "core/model/differentiable.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace fovea {

// The context's model as a DifferentiableModel; throws Error naming the method when the model
// family has none.
DifferentiableModel& differentiableOf(ExplainContext& context, const std::string& method);
// The context's input as [1, C, H, W] float32 on the model's device.
at::Tensor inputTensor(ExplainContext& context, const DifferentiableModel& net);
// A 2-D float tensor (any device) as a CV_32F matrix.
cv::Mat toMat(const at::Tensor& map2d);
// Per-pixel map from a [C, H, W] attribution: the channel sum, then its positive part
// (sign 0), absolute value (1) or as it is (2).
at::Tensor reduceChannels(const at::Tensor& attribution, int sign);

// The common "sign" parameter of pixel attributions.
ExplainerParam signParameter(int defaultSign);

std::vector<const Explainer*> camExplainers();          // cam.cpp
std::vector<const Explainer*> attributionExplainers();  // attribution.cpp

}  // namespace fovea
