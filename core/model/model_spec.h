// ModelSpec: the neutral description of a loaded model that the CLI (`fovea info`), the GUI's
// model panel and the analyses read. Each model family's loader fills one in from config.json
// and the tensor names; nothing outside the loader needs to know the checkpoint layout.
//
//     std::unique_ptr<Model> model = openModel("checkpoints/vit_base_patch16_224");
//     const ModelSpec& spec = model->spec();
//     std::cout << spec.describe();          // human-readable, several lines
//     nlohmann::json facts = spec.toJson();  // `fovea info --json`
#pragma once

#include "core/image/preprocess.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fovea {

struct ModelSpec {
    std::string family;        // "vit" or "resnet"
    std::string layout;        // "timm", "huggingface" or "torchvision"
    std::string architecture;  // e.g. "vit_base_patch16_224", "ViTForImageClassification", "resnet50"
    std::string sourcePath;    // folder or file it was loaded from
    std::string weightsPath;   // the .safetensors file

    // Vision transformer hyper-parameters.
    int imageHeight = 224;  // training resolution (position embeddings are for this grid)
    int imageWidth = 224;
    int patchSize = 16;
    int channels = 3;
    int embedDim = 768;
    int depth = 12;
    int numHeads = 12;
    int mlpHidden = 3072;
    int numClasses = 0;  // 0: no classification head (features only)
    bool classToken = true;
    bool distillationToken = false;
    int registerTokens = 0;
    bool noEmbedClass = false;  // position embeddings exclude the prefix tokens
    bool qkvBias = true;
    bool layerScale = false;
    double layerNormEps = 1e-6;
    std::string pooling = "token";  // "token" or "avg"
    bool fcNorm = false;            // LayerNorm after pooling instead of before (timm avg pool)

    // Convolutional networks (family "resnet"); empty / defaults for transformers, which then
    // read depth = 0 and numHeads = 0 ("no attention"), patchSize = the total stride and
    // embedDim = the channels of the last stage.
    std::string blockType;         // "basic" or "bottleneck"
    std::vector<int> stageBlocks;  // residual blocks per stage, e.g. {3, 4, 6, 3}
    std::vector<int> stageWidths;  // output channels of each stage, e.g. {256, 512, 1024, 2048}
    int stemWidth = 0;             // channels after the stem
    int groups = 1;                // groups of the bottleneck 3x3 convolutions (ResNeXt: 32)
    int widthPerGroup = 64;        // torchvision's width_per_group (wide ResNets: 128)
    double batchNormEps = 1e-5;

    // Language and vision-language models (families "gpt2", "bert", "clip"). GPT-2 and BERT
    // describe their one transformer with embedDim / depth / numHeads / mlpHidden above; CLIP
    // uses those for its vision tower and the text* fields for its text tower.
    std::string modality = "image";  // "image", "text" or "image-text"
    std::string task;                // "causal-lm", "masked-lm", "sequence-classification",
                                     // "features" (BertModel), "contrastive" (CLIP)
    int vocabSize = 0;
    int contextLength = 0;           // positions the model has embeddings for
    bool causal = false;             // queries see only themselves and earlier keys
    int typeVocabSize = 0;           // BERT token types (segments)
    std::string activation = "gelu"; // "gelu" (exact), "gelu_tanh" (GPT-2 gelu_new), "quick_gelu" (CLIP)
    bool preLayerNorm = false;       // CLIP vision: LayerNorm after the embeddings (ln_pre)
    int projectionDim = 0;           // CLIP: width of the joint image-text embedding
    int textEmbedDim = 0, textDepth = 0, textHeads = 0, textMlpHidden = 0;  // CLIP text tower
    std::map<long long, std::string> specialTokens;  // id -> name ("<|endoftext|>", "[PAD]")

    std::vector<std::string> labels;  // class names; empty: "class_<i>"
    Preprocessing preprocessing;
    std::int64_t parameterCount = 0;

    int prefixTokens() const { return (classToken ? 1 : 0) + (distillationToken ? 1 : 0) + registerTokens; }
    int gridRows() const { return imageHeight / patchSize; }
    int gridCols() const { return imageWidth / patchSize; }
    int tokenCount() const { return prefixTokens() + gridRows() * gridCols(); }
    // A CNN (stages of residual blocks) rather than a transformer: no tokens, no attention.
    bool isConvolutional() const { return !stageBlocks.empty(); }
    bool takesText() const { return modality == "text" || modality == "image-text"; }
    bool takesImages() const { return modality == "image" || modality == "image-text"; }
    // The text transformer's layers and heads: CLIP's text tower, else the model's own.
    int textLayers() const { return modality == "image-text" ? textDepth : depth; }
    int textHeadCount() const { return modality == "image-text" ? textHeads : numHeads; }
    int textWidth() const { return modality == "image-text" ? textEmbedDim : embedDim; }
    // Feature layers the CAM family can use: a ViT's blocks (tokens entering each), or a CNN's
    // stem and stages.
    int featureLayerCount() const { return isConvolutional() ? 1 + int(stageBlocks.size()) : depth; }
    // Convolutions and the classifier on the main path, the number in "resnet50".
    int weightLayers() const;
    std::string labelOf(int classIndex) const;

    std::string describe() const;
    nlohmann::json toJson() const;
};

}  // namespace fovea
