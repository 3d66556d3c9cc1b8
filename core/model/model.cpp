#include "core/model/model.h"

#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

namespace fovea {

namespace {

bool hasExtension(const std::string& path, const std::string& extension) {
    std::string actual = std::filesystem::path(path).extension().string();
    std::transform(actual.begin(), actual.end(), actual.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return actual == extension;
}

// Undo the normalisation to get back a picture of what the model saw.
cv::Mat viewFromPixels(const std::vector<float>& pixels, int height, int width, const Preprocessing& preprocessing) {
    cv::Mat view(height, width, CV_8UC3);
    const std::size_t plane = std::size_t(height) * width;
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            cv::Vec3b& bgr = view.at<cv::Vec3b>(y, x);
            for (int c = 0; c < 3; ++c) {
                const float normalised = pixels[std::size_t(c) * plane + std::size_t(y) * width + x];
                const double value = (normalised * preprocessing.std[std::size_t(c)] + preprocessing.mean[std::size_t(c)]) /
                                     preprocessing.rescale;
                bgr[2 - c] = cv::saturate_cast<uchar>(std::lround(value));
            }
        }
    }
    return view;
}

}  // namespace

ImageInput makeImageInput(const cv::Mat& bgr, const ModelSpec& spec, const std::string& source) {
    ImageInput input;
    input.pixels = preprocessImage(bgr, spec.preprocessing);
    input.height = spec.preprocessing.height;
    input.width = spec.preprocessing.width;
    input.view = modelViewImage(bgr, spec.preprocessing);
    input.source = source;
    return input;
}

ImageInput loadImageInput(const std::string& path, const ModelSpec& spec) {
    if (!hasExtension(path, ".npy")) return makeImageInput(readImage(path), spec, path);
    const NpyArray array = readNpy(path);
    if (array.dtype != "<f4") {
        throw Error(path, "input tensor has dtype " + array.dtype + "; expected float32 [1,3,H,W] (already normalised)");
    }
    const auto& shape = array.shape;
    const bool batched = shape.size() == 4 && shape[0] == 1;
    if (!(batched || shape.size() == 3) || shape[shape.size() - 3] != spec.channels) {
        std::string text = "[";
        for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
        throw Error(path, "input tensor has shape " + text + "]; expected [1," + std::to_string(spec.channels) + ",H,W]");
    }
    ImageInput input;
    input.height = int(shape[shape.size() - 2]);
    input.width = int(shape[shape.size() - 1]);
    if (spec.isConvolutional()) {
        // A CNN takes any size its stride leaves something of.
        if (input.height < 32 || input.width < 32) {
            throw Error(path, "input size " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                                  " is too small (at least 32x32)");
        }
    } else if (input.height % spec.patchSize != 0 || input.width % spec.patchSize != 0 || input.height == 0 ||
               input.width == 0) {
        throw Error(path, "input size " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                              " is not a positive multiple of the patch size " + std::to_string(spec.patchSize));
    }
    input.pixels = array.toFloats();
    for (float v : input.pixels) {
        if (!std::isfinite(v)) throw Error(path, "input tensor contains NaN or infinite values");
    }
    input.view = viewFromPixels(input.pixels, input.height, input.width, spec.preprocessing);
    input.source = path;
    return input;
}

namespace {

std::string modelName(const ModelSpec& spec) {
    return spec.sourcePath.empty() ? spec.architecture : spec.sourcePath;
}

}  // namespace

std::vector<ModelOutputs> Model::runBatch(const std::vector<ImageInput>& inputs, const CaptureRequest& request) {
    std::vector<ModelOutputs> outputs;
    outputs.reserve(inputs.size());
    for (const ImageInput& input : inputs) outputs.push_back(run(input, request));
    return outputs;
}

ModelOutputs Model::runText(const TextInput&, const CaptureRequest&) {
    throw Error(modelName(spec()), spec().architecture + " takes images, not text");
}

ModelOutputs Model::runImageText(const ImageInput&, const TextInput&, const CaptureRequest&) {
    throw Error(modelName(spec()), spec().architecture + (accepts(InputKind::Text) ? " takes text, not images"
                                                                                     : " takes images, not text"));
}

int ModelOutputs::topClass() const {
    if (logits.empty()) return -1;
    return int(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<float> ModelOutputs::probabilities() const {
    std::vector<float> out(logits.size());
    if (logits.empty()) return out;
    const float top = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
        out[i] = std::exp(logits[i] - top);
        sum += out[i];
    }
    for (float& p : out) p = float(p / sum);
    return out;
}

std::vector<std::pair<int, float>> ModelOutputs::topClasses(int count) const {
    const std::vector<float> p = probabilities();
    std::vector<int> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[std::size_t(a)] > p[std::size_t(b)]; });
    std::vector<std::pair<int, float>> out;
    for (int i = 0; i < count && i < int(order.size()); ++i) out.emplace_back(order[std::size_t(i)], p[std::size_t(order[std::size_t(i)])]);
    return out;
}

void Model::setHeadScales(const HeadScales&) {
    throw Error(spec().architecture.empty() ? spec().family : spec().architecture,
                "has no attention heads to scale (" + spec().family + " models have none)");
}

void Model::setTextHeadScales(const HeadScales&) {
    throw Error(spec().architecture.empty() ? spec().family : spec().architecture,
                "has no separate text tower; use setHeadScales");
}

}  // namespace fovea
