#include "core/model/model_spec.h"

#include <algorithm>
#include <sstream>

namespace fovea {

std::string ModelSpec::labelOf(int classIndex) const {
    if (classIndex >= 0 && classIndex < int(labels.size())) return labels[std::size_t(classIndex)];
    return "class_" + std::to_string(classIndex);
}

int ModelSpec::weightLayers() const {
    int blocks = 0;
    for (int count : stageBlocks) blocks += count;
    return blocks * (blockType == "bottleneck" ? 3 : 2) + 1 + (numClasses > 0 ? 1 : 0);
}

namespace {

std::string listText(const std::vector<int>& values) {
    std::string text = "[";
    for (std::size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
    return text + "]";
}

void describeClasses(std::ostream& out, const ModelSpec& spec) {
    out << "classes      " << spec.numClasses;
    if (!spec.labels.empty() && spec.numClasses > 0) {
        out << " (" << spec.labelOf(0);
        for (int i = 1; i < std::min(spec.numClasses, 5); ++i) out << ", " << spec.labelOf(i);
        if (spec.numClasses > 5) out << ", ...";
        out << ")";
    }
    out << "\n";
}

void describeTextTower(std::ostream& out, const char* name, int layers, int heads, int width, int mlp,
                       const std::string& activation) {
    out << name << layers << " layers, " << heads << " heads (head dim " << (heads ? width / heads : 0) << "), width "
        << width << " (MLP " << mlp << ", " << activation << ")\n";
}

void describeLanguage(std::ostream& out, const ModelSpec& spec) {
    out << "task         " << spec.task << (spec.causal ? " (causal attention)" : " (bidirectional attention)") << "\n";
    if (spec.modality == "image-text") {
        describeTextTower(out, "vision       ", spec.depth, spec.numHeads, spec.embedDim, spec.mlpHidden, spec.activation);
        out << "             " << spec.tokenCount() << " tokens: 1 CLS + " << spec.gridRows() * spec.gridCols() << " patches ("
            << spec.gridRows() << "x" << spec.gridCols() << " grid of " << spec.patchSize << "px), input " << spec.channels
            << "x" << spec.imageHeight << "x" << spec.imageWidth << "\n";
        describeTextTower(out, "text         ", spec.textDepth, spec.textHeads, spec.textEmbedDim, spec.textMlpHidden,
                          spec.activation);
        out << "embedding    " << spec.projectionDim << " (joint image-text space)\n";
    } else {
        describeTextTower(out, "transformer  ", spec.depth, spec.numHeads, spec.embedDim, spec.mlpHidden, spec.activation);
    }
    out << "vocabulary   " << spec.vocabSize << " tokens";
    if (spec.typeVocabSize > 0) out << ", " << spec.typeVocabSize << " token types";
    out << "\n";
    out << "context      " << spec.contextLength << " positions\n";
    if (!spec.specialTokens.empty()) {
        out << "special     ";
        for (const auto& [id, name] : spec.specialTokens) out << " " << name << "=" << id;
        out << "\n";
    }
    out << "parameters   " << spec.parameterCount << "\n";
    if (spec.numClasses > 0) describeClasses(out, spec);
    if (spec.modality == "image-text") out << "preprocess   " << spec.preprocessing.describe() << "\n";
}

}  // namespace

std::string ModelSpec::describe() const {
    std::ostringstream out;
    out << "model        " << sourcePath << "\n";
    out << "family       " << family << " (" << layout << " layout, " << architecture << ")\n";
    if (takesText()) {
        describeLanguage(out, *this);
        return out.str();
    }
    if (isConvolutional()) {
        out << "layers       " << weightLayers() << " (" << blockType << " blocks " << listText(stageBlocks) << ")\n";
        out << "widths       stem " << stemWidth << ", stages " << listText(stageWidths);
        if (groups > 1 || widthPerGroup != 64) out << ", 3x3 groups " << groups << " x " << widthPerGroup << " wide";
        out << "\n";
        out << "features     " << embedDim << " channels on a " << gridRows() << "x" << gridCols() << " grid (stride "
            << patchSize << "); no attention\n";
        out << "parameters   " << parameterCount << "\n";
        out << "input        " << channels << "x" << imageHeight << "x" << imageWidth << " (any size from 32x32)\n";
        describeClasses(out, *this);
        out << "norm         BatchNorm (running statistics, eps " << batchNormEps << "), global average pooling\n";
        out << "preprocess   " << preprocessing.describe() << "\n";
        return out.str();
    }
    out << "layers       " << depth << "\n";
    out << "heads        " << numHeads << " per layer (head dim " << (numHeads ? embedDim / numHeads : 0) << ")\n";
    out << "width        " << embedDim << " (MLP " << mlpHidden << ")\n";
    out << "tokens       " << tokenCount() << ": ";
    bool first = true;
    auto part = [&](int count, const char* name) {
        if (count <= 0) return;
        out << (first ? "" : " + ") << count << " " << name;
        first = false;
    };
    part(classToken ? 1 : 0, "CLS");
    part(distillationToken ? 1 : 0, "DIST");
    part(registerTokens, registerTokens == 1 ? "register" : "registers");
    out << (first ? "" : " + ") << gridRows() * gridCols() << " patches (" << gridRows() << "x" << gridCols()
        << " grid of " << patchSize << "px)\n";
    out << "parameters   " << parameterCount << "\n";
    out << "input        " << channels << "x" << imageHeight << "x" << imageWidth << "\n";
    describeClasses(out, *this);
    out << "pooling      " << pooling << (fcNorm ? " + fc_norm" : "") << ", LayerNorm eps " << layerNormEps
        << (layerScale ? ", LayerScale" : "") << (qkvBias ? "" : ", no qkv bias")
        << (noEmbedClass ? ", no_embed_class" : "") << "\n";
    out << "preprocess   " << preprocessing.describe() << "\n";
    return out.str();
}

nlohmann::json ModelSpec::toJson() const {
    if (takesText()) {
        nlohmann::json special = nlohmann::json::object();
        for (const auto& [id, name] : specialTokens) special[std::to_string(id)] = name;
        nlohmann::json facts = {{"path", sourcePath},
                                {"weights", weightsPath},
                                {"family", family},
                                {"layout", layout},
                                {"architecture", architecture},
                                {"modality", modality},
                                {"task", task},
                                {"causal", causal},
                                {"layers", depth},
                                {"heads", numHeads},
                                {"embed_dim", embedDim},
                                {"mlp_hidden", mlpHidden},
                                {"activation", activation},
                                {"layer_norm_eps", layerNormEps},
                                {"vocab_size", vocabSize},
                                {"context_length", contextLength},
                                {"type_vocab_size", typeVocabSize},
                                {"special_tokens", special},
                                {"parameters", parameterCount},
                                {"num_classes", numClasses},
                                {"labels", labels}};
        if (modality == "image-text") {
            facts["vision"] = {{"layers", depth},          {"heads", numHeads},     {"embed_dim", embedDim},
                               {"mlp_hidden", mlpHidden},  {"patch_size", patchSize}, {"grid", {gridRows(), gridCols()}},
                               {"tokens", tokenCount()},   {"input_size", {channels, imageHeight, imageWidth}}};
            facts["text"] = {{"layers", textDepth}, {"heads", textHeads}, {"embed_dim", textEmbedDim}, {"mlp_hidden", textMlpHidden}};
            facts["projection_dim"] = projectionDim;
            facts["preprocessing"] = preprocessing.toJson();
        }
        return facts;
    }
    if (isConvolutional()) {
        return {{"path", sourcePath},
                {"weights", weightsPath},
                {"family", family},
                {"layout", layout},
                {"architecture", architecture},
                {"layers", 0},  // attention layers: none
                {"heads", 0},
                {"weight_layers", weightLayers()},
                {"block_type", blockType},
                {"stage_blocks", stageBlocks},
                {"stage_widths", stageWidths},
                {"stem_width", stemWidth},
                {"groups", groups},
                {"width_per_group", widthPerGroup},
                {"embed_dim", embedDim},
                {"stride", patchSize},
                {"grid", {gridRows(), gridCols()}},
                {"parameters", parameterCount},
                {"input_size", {channels, imageHeight, imageWidth}},
                {"num_classes", numClasses},
                {"labels", labels},
                {"pooling", "avg"},
                {"batch_norm_eps", batchNormEps},
                {"preprocessing", preprocessing.toJson()}};
    }
    nlohmann::json tokenKinds = {{"cls", classToken ? 1 : 0},
                                 {"dist", distillationToken ? 1 : 0},
                                 {"register", registerTokens},
                                 {"patch", gridRows() * gridCols()}};
    return {{"path", sourcePath},
            {"weights", weightsPath},
            {"family", family},
            {"layout", layout},
            {"architecture", architecture},
            {"layers", depth},
            {"heads", numHeads},
            {"embed_dim", embedDim},
            {"mlp_hidden", mlpHidden},
            {"patch_size", patchSize},
            {"grid", {gridRows(), gridCols()}},
            {"tokens", tokenCount()},
            {"token_kinds", tokenKinds},
            {"parameters", parameterCount},
            {"input_size", {channels, imageHeight, imageWidth}},
            {"num_classes", numClasses},
            {"labels", labels},
            {"pooling", pooling},
            {"fc_norm", fcNorm},
            {"layer_norm_eps", layerNormEps},
            {"layer_scale", layerScale},
            {"qkv_bias", qkvBias},
            {"no_embed_class", noEmbedClass},
            {"preprocessing", preprocessing.toJson()}};
}

}  // namespace fovea
