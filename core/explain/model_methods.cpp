#include "core/explain/model_methods.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace fovea {

DifferentiableModel& differentiableOf(ExplainContext& context, const std::string& method) {
    DifferentiableModel* net = context.model().differentiable();
    if (!net) {
        throw Error("method " + method, "does not support " + context.model().spec().architecture +
                                            " (no differentiable view of this model family)");
    }
    return *net;
}

at::Tensor inputTensor(ExplainContext& context, const DifferentiableModel& net) {
    const ImageInput& input = context.input();
    const int channels = context.model().spec().channels;
    if (input.pixels.size() != std::size_t(channels) * input.height * input.width || input.height <= 0) {
        throw Error(input.source.empty() ? "input" : input.source, "pixel buffer does not match its size");
    }
    return torch::from_blob(const_cast<float*>(input.pixels.data()), {1, channels, input.height, input.width}, at::kFloat)
        .to(net.device())
        .clone();
}

cv::Mat toMat(const at::Tensor& map2d) {
    const at::Tensor cpu = map2d.detach().to(at::kCPU, at::kFloat).contiguous();
    cv::Mat out(int(cpu.size(0)), int(cpu.size(1)), CV_32F);
    std::memcpy(out.ptr<float>(), cpu.data_ptr<float>(), std::size_t(cpu.numel()) * sizeof(float));
    return out;
}

at::Tensor reduceChannels(const at::Tensor& attribution, int sign) {
    const at::Tensor summed = attribution.sum(0);
    if (sign == 0) return summed.clamp_min(0);
    if (sign == 1) return summed.abs();
    return summed;
}

ExplainerParam signParameter(int defaultSign) {
    return {"sign", double(defaultSign), 0, 2, true, "channel sum kept as: 0 positive part, 1 absolute value, 2 signed",
            {"positive part", "absolute value", "signed"}};
}

}  // namespace fovea
