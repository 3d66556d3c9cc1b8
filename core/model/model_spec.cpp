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

}  // namespace

std::string ModelSpec::describe() const {
    std::ostringstream out;
    out << "model        " << sourcePath << "\n";
    out << "family       " << family << " (" << layout << " layout, " << architecture << ")\n";
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
