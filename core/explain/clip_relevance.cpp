#include "core/explain/clip_relevance.h"

#include "core/explain/attention_maps.h"
#include "core/explain/explainer.h"
#include "core/model/clip.h"
#include "core/model/text_transformer.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>

namespace fovea {

namespace {

const std::vector<std::string>& defaultStopWords() {
    static const std::vector<std::string> words = {"a",   "an",  "the", "of",   "in",  "on",   "at",   "to",  "and",  "or",
                                                   "is",  "are", "was", "with", "for", "from", "by",   "as",  "this", "that",
                                                   "it",  "its", "be",  "there", "some", "into", "over", "under", ".", ","};
    return words;
}

std::string normalisedWord(std::string text) {
    const std::string suffix = "</w>";
    if (text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0) {
        text.erase(text.size() - suffix.size());
    }
    std::string out;
    for (const char c : text) {
        if (!std::isspace(static_cast<unsigned char>(c))) out += char(std::tolower(static_cast<unsigned char>(c)));
    }
    // GPT-2-style byte-level BPE marks a leading space with "Ġ" (0xC4 0xA0).
    if (out.rfind("\xC4\xA0", 0) == 0) out.erase(0, 2);
    return out;
}

ClipModel& clipOf(Model& model) {
    auto* clip = dynamic_cast<ClipModel*>(&model);
    if (!clip) throw Error(model.spec().sourcePath, model.spec().architecture + " is not an image-text (CLIP) model");
    return *clip;
}

}  // namespace

const std::vector<std::string>& clipRelevanceMethods() {
    static const std::vector<std::string> methods = {"chefer", "gradcam"};
    return methods;
}

std::vector<int> attentionMagnets(const TokenLayout& tokens, const std::vector<std::string>& stopWords) {
    const std::vector<std::string>& words = stopWords.empty() ? defaultStopWords() : stopWords;
    std::vector<int> out;
    for (int i = 0; i < tokens.size(); ++i) {
        const TokenInfo& token = tokens[i];
        if (token.kind == TokenKind::Special) {
            if (token.text == "<|endoftext|>" || token.text == "[SEP]") out.push_back(i);
            continue;
        }
        const std::string word = normalisedWord(token.text);
        if (std::find(words.begin(), words.end(), word) != words.end()) out.push_back(i);
    }
    return out;
}

ClipRelevance explainImageText(Model& model, const ImageInput& image, const TextInput& given, const ClipRelevanceOptions& options) {
    ClipModel& clip = clipOf(model);
    if (std::find(clipRelevanceMethods().begin(), clipRelevanceMethods().end(), options.method) == clipRelevanceMethods().end()) {
        throw Error("method " + options.method, "is not a CLIP relevance method (chefer, gradcam)");
    }
    TextInput text = given;
    fitTextInput(text, model.spec(), ContextOverflow::Refuse);
    ClipRelevance result;
    result.textTokens = text.tokens;
    const int pool = clip.poolingPosition(text);
    {
        const ModelOutputs plain = model.runImageText(image, text, CaptureRequest::nothing());
        result.similarityAsGiven = plain.similarity;
    }
    if (options.excludeMagnets) {
        result.excluded = attentionMagnets(text.tokens, options.stopWords);
        if (text.attentionMask.empty()) text.attentionMask.assign(std::size_t(text.size()), 1);
        for (int position : result.excluded) {
            if (position != pool && position != 0) text.attentionMask[std::size_t(position)] = 0;
        }
    }

    if (options.method == "chefer") {
        CaptureRequest request;
        request.precision = AttentionPrecision::Float32;
        request.gradients = true;
        const ModelOutputs out = model.runImageText(image, text, request);
        result.similarity = out.similarity;
        const std::vector<float> vision = cheferRelevanceMatrix(out.attention);
        const int cls = std::max(0, out.attention.tokens.firstOf(TokenKind::Cls));
        result.imageMap = patchGridFromRow(out.attention.tokens, vision.data() + std::size_t(cls) * std::size_t(out.attention.tokens.size()));
        const std::vector<float> textR = cheferRelevanceMatrix(out.textAttention);
        const int n = text.size();
        result.tokenRelevance.assign(textR.begin() + std::ptrdiff_t(pool) * n, textR.begin() + std::ptrdiff_t(pool + 1) * n);
    } else {
        // Grad-CAM on the tokens entering the last vision block; gradient x input on the text.
        VitModel& vision = clip.vision();
        const ModelSpec& vspec = vision.spec();
        const at::Tensor pixels =
            torch::from_blob(const_cast<float*>(image.pixels.data()), {1, vspec.channels, image.height, image.width}, at::kFloat)
                .to(clip.device())
                .clone()
                .requires_grad_(true);  // so the tapped tokens are part of a graph that has gradients
        FeatureTap tap;
        tap.layer = vspec.depth - 1;
        const at::Tensor imageEmbeds = vision.forward(pixels, nullptr, &tap);
        const at::Tensor words = clip.tokenEmbeddings(text).detach().clone().requires_grad_(true);
        const at::Tensor textEmbeds = clip.outputsFromEmbeddings(words, text);
        const at::Tensor score = clip.similarity(imageEmbeds, textEmbeds).sum();
        const auto grads = torch::autograd::grad({score}, {tap.features, words});
        const at::Tensor alpha = grads[0].mean({2, 3}, true);
        const at::Tensor cam = at::relu((alpha * tap.features).sum(1)).select(0, 0).detach().to(at::kCPU, at::kFloat).contiguous();
        result.imageMap = cv::Mat(int(cam.size(0)), int(cam.size(1)), CV_32F, cam.data_ptr<float>()).clone();
        result.tokenRelevance = toFloatVector((words * grads[1]).sum(-1).select(0, 0));
        result.similarity = score.item<float>();
    }
    for (int position : result.excluded) result.tokenRelevance[std::size_t(position)] = 0.0f;
    return result;
}

}  // namespace fovea
