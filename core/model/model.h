// Model: one loaded network (weights on a device), run many times. Torch-free on purpose:
// the GUI and the CLI see only Fovea value types; LibTorch stays inside core's .cpp files.
//
//     std::unique_ptr<Model> model = openModel("resources/models/shapes-vit");
//     ImageInput input = loadImageInput("scene.png", model->spec());
//     CaptureRequest request;                            // all layers and heads, float16
//     ModelOutputs out = model->run(input, request);
//     for (auto [label, probability] : out.topClasses(3)) ...
//     cv::Mat map = rolloutMap(out.attention, HeadSelection{}, 0.0f, 0);
//
// Head interventions (Michel et al. 2019 head masks): the factors stay until changed or reset.
//
//     HeadScales scales = model->headScales();          // layers x heads, all 1 when untouched
//     scales.set(5, 2, 0.0f);                           // switch layer 5, head 2 off
//     model->setHeadScales(scales);
//     model->resetHeadScales();
//
// Language models take a TextInput instead (model->accepts(InputKind::Text)):
//
//     TextInput text = loadTokenIds("ids.npy", model->spec());
//     fitTextInput(text, model->spec(), ContextOverflow::Truncate);
//     ModelOutputs lm = model->runText(text, request);   // lm.positionLogits: [T, vocab]
#pragma once

#include "core/model/attention_stack.h"
#include "core/model/head_scales.h"
#include "core/model/model_spec.h"
#include "core/model/text_input.h"

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

class DifferentiableModel;      // core/model/differentiable.h (internal to core)
class DifferentiableTextModel;  // core/model/differentiable_text.h (internal to core)

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
    // [classes] (or pooled features when the model has no head). Language models with an output
    // per position: the last real position's row of positionLogits (GPT-2: the next-token
    // logits). CLIP on an image and a text: [1], the similarity (logits_per_image).
    std::vector<float> logits;
    AttentionStack attention;  // CLIP: the vision tower's
    double forwardMilliseconds = 0.0;

    // Language models: [positions, outputWidth] row-major (GPT-2's next-token logits at every
    // position, BERT masked-LM token logits); empty otherwise.
    std::vector<float> positionLogits;
    int positions = 0;
    // The final hidden states, [positions, width] (BERT's last_hidden_state, GPT-2's after ln_f).
    std::vector<float> lastHiddenState;
    int hiddenWidth = 0;
    // CLIP: the text tower's attention, the projected (not normalised) embeddings, and the
    // similarity logit_scale * cos(image, text).
    AttentionStack textAttention;
    std::vector<float> imageEmbeds, textEmbeds;
    bool hasSimilarity = false;
    float similarity = 0.0f;
    // What the run did to the input that the user must see (truncation), one line each.
    std::vector<std::string> notices;

    int topClass() const;
    std::vector<float> probabilities() const;  // softmax of the logits
    // (class index, probability), most probable first.
    std::vector<std::pair<int, float>> topClasses(int count) const;
};

// What a model takes: images (ViT, ResNet), text (GPT-2, BERT), or both (CLIP, which also
// takes either alone to embed it).
enum class InputKind { Image, Text, ImageText };

class Model {
public:
    virtual ~Model() = default;
    virtual const ModelSpec& spec() const = 0;
    virtual bool accepts(InputKind kind) const { return kind == InputKind::Image; }
    // Token meaning for an input of this size (pixels).
    virtual TokenLayout tokenLayout(int height, int width) const = 0;
    // Runs one input; captures what the request asks for (checked against the memory budget
    // before anything runs).
    virtual ModelOutputs run(const ImageInput& input, const CaptureRequest& request) = 0;
    // Several inputs, the same as run() on each in turn (outputs in input order). Families that
    // can run them as one batch do (ViT: one forward pass over images of one size; what keeps a
    // GPU busy, while on two CPU cores it measured no faster, docs/README.md); the default loops.
    virtual std::vector<ModelOutputs> runBatch(const std::vector<ImageInput>& inputs,
                                               const CaptureRequest& request);
    // A token sequence (fitted to the context with fitTextInput first). The default throws
    // "<model>: takes images, not text".
    virtual ModelOutputs runText(const TextInput& input, const CaptureRequest& request);
    // An image and a text together (CLIP): both towers, both attention stacks, the similarity.
    virtual ModelOutputs runImageText(const ImageInput& image, const TextInput& text, const CaptureRequest& request);
    virtual std::string deviceName() const = 0;
    // The torch-level view the model-level explainers use; nullptr when a family has none.
    virtual DifferentiableModel* differentiable() { return nullptr; }
    virtual DifferentiableTextModel* differentiableText() { return nullptr; }

    // Head interventions on the stack reported in ModelOutputs::attention (CLIP: the vision
    // tower). Each factor multiplies its head's attention output before the output projection
    // (Michel et al. 2019); an empty or all-ones HeadScales removes the intervention. Throws
    // fovea::Error when the shape differs from the model's layers x heads, and for models
    // without attention heads (ResNet).
    virtual void setHeadScales(const HeadScales& scales);
    // The current factors, layers x heads (all 1 when untouched); empty for models without heads.
    virtual HeadScales headScales() const { return {}; }
    // CLIP's text tower (ModelOutputs::textAttention); other models throw.
    virtual void setTextHeadScales(const HeadScales& scales);
    virtual HeadScales textHeadScales() const { return {}; }
    // Back to the loaded model (every stack); a no-op for models without heads.
    virtual void resetHeadScales() {}
};

}  // namespace fovea
