// What a CLIP model matched between an image and a text: a heatmap over the image for the text
// prompt, a relevance per text token for the image, and the similarity they explain
// (exp(logit_scale) · cos(image, text)).
//
//     ClipRelevanceOptions options;              // Chefer's relevance; "gradcam" for the baseline
//     options.excludeMagnets = true;             // RefAM: mask stop words (and EOS) out
//     ClipRelevance r = explainImageText(*clip, image, text, options);
//     cv::Mat heat = r.imageMap;                 // CV_32F over the patch grid
//
// Methods:
//   chefer   Chefer, Gur & Wolf, ICCV 2021, the rule for models whose modalities meet only at
//            the output (CLIP, their Sec. 3 with no co-attention): per tower R = I and, per
//            layer in forward order, R += mean_h((∇A ⊙ A)^+) · R, gradients of the similarity;
//            the image map is R's CLS row over the patches, the text relevance R's row at the
//            pooling (end-of-text) position.
//   gradcam  Selvaraju et al., ICCV 2017, on the tokens entering the last vision block (the
//            ViT target of REFERENCES.md), the similarity as the score: ReLU(Σ_k α_k F_k),
//            α_k = mean over patches of ∂s/∂F_k. Text relevance is gradient × input on the
//            token embeddings.
// Attention magnets (RefAM: "RefAM: Attention Magnets for Zero-Shot Referral
// Segmentation", 2025): stop words and the end token draw attention without carrying the
// prompt's meaning. With excludeMagnets they are masked as keys in the text tower (so the text
// embedding is built without them) and get zero relevance; the start token always stays (the
// causal first row has nothing else to attend to), and the end token, where CLIP pools, is
// only zeroed in the token relevance.
#pragma once

#include "core/model/model.h"

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fovea {

struct ClipRelevanceOptions {
    std::string method = "chefer";  // "chefer" or "gradcam"
    bool excludeMagnets = false;
    std::vector<std::string> stopWords;  // empty: a short English list (a, an, the, of, ...)
};

struct ClipRelevance {
    cv::Mat imageMap;                  // CV_32F, the patch grid
    std::vector<float> tokenRelevance; // one per text position
    TokenLayout textTokens;
    std::vector<int> excluded;         // positions treated as magnets
    float similarity = 0.0f;           // with the magnets excluded, when they are
    float similarityAsGiven = 0.0f;    // of the text as given
};

const std::vector<std::string>& clipRelevanceMethods();  // {"chefer", "gradcam"}
// Throws Error when the model is not an image-text model or the method is unknown.
ClipRelevance explainImageText(Model& model, const ImageInput& image, const TextInput& text, const ClipRelevanceOptions& options = {});
// The positions of `text` that RefAM would exclude: stop words (matched on the token text, any
// case, without CLIP's "</w>" and surrounding spaces) and end tokens.
std::vector<int> attentionMagnets(const TokenLayout& tokens, const std::vector<std::string>& stopWords);

}  // namespace fovea
