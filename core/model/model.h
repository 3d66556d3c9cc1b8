// Model: one loaded network (weights on a device), run many times. Torch-free on purpose:
// the GUI and the CLI see only Fovea value types; LibTorch stays inside core's .cpp files.
//
//     std::unique_ptr<Model> model = openModel("resources/models/shapes-vit");
//     ImageInput input = loadImageInput("scene.png", model->spec());
//     CaptureRequest request;                            // all layers and heads, float16
//     ModelOutputs out = model->run(input, request);
//     for (auto [label, probability] : out.topClasses(3)) ...
//     cv::Mat map = rolloutMap(out.attention, HeadSelection{}, 0.0f, 0);
#pragma once

#include "core/model/attention_stack.h"
#include "core/model/model_spec.h"

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

class DifferentiableModel;  // core/model/differentiable.h (internal to core)

// A model input: normalised float32 CHW pixels and the picture the model saw (for overlays).
struct ImageInput {
    std::vector<float> pixels;  // [3, height, width], already normalised
    int height = 0;
    int width = 0;
    cv::Mat view;        // BGR 8-bit height x width: what the model saw
    std::string source;  // file it came from
};

// An image file (decoded and preprocessed as the spec says) or a float32 [1,3,H,W] .npy that is
// already normalised (preprocessing is skipped). Throws Error naming the file on bad input.
ImageInput loadImageInput(const std::string& path, const ModelSpec& spec);
// An in-memory BGR image, preprocessed as the spec says.
ImageInput makeImageInput(const cv::Mat& bgr, const ModelSpec& spec, const std::string& source = {});

struct ModelOutputs {
    std::vector<float> logits;  // [classes] (or pooled features when the model has no head)
    AttentionStack attention;
    double forwardMilliseconds = 0.0;

    int topClass() const;
    std::vector<float> probabilities() const;  // softmax of the logits
    // (class index, probability), most probable first.
    std::vector<std::pair<int, float>> topClasses(int count) const;
};

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelSpec& spec() const = 0;
    // Token meaning for an input of this size (pixels).
    virtual TokenLayout tokenLayout(int height, int width) const = 0;
    // Runs one input; captures what the request asks for (checked against the memory budget
    // before anything runs).
    virtual ModelOutputs run(const ImageInput& input, const CaptureRequest& request) = 0;
    virtual std::string deviceName() const = 0;
    // The torch-level view the model-level explainers use; nullptr when a family has none.
    virtual DifferentiableModel* differentiable() { return nullptr; }
};

}  // namespace fovea
