#include "core/model/model_spec.h"

#include <sstream>

namespace fovea {

std::string ModelSpec::labelOf(int classIndex) const {
    if (classIndex >= 0 && classIndex < int(labels.size())) return labels[std::size_t(classIndex)];
    return "class_" + std::to_string(classIndex);
}

std::string ModelSpec::describe() const {
    std::ostringstream out;
    out << "model        " << sourcePath << "\n";
    out << "family       " << family << " (" << layout << " layout, " << architecture << ")\n";
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
    out << "classes      " << numClasses;
    if (!labels.empty() && numClasses > 0) {
        out << " (" << labelOf(0);
        for (int i = 1; i < std::min(numClasses, 5); ++i) out << ", " << labelOf(i);
        if (numClasses > 5) out << ", ...";
        out << ")";
    }
    out << "\n";
    out << "pooling      " << pooling << (fcNorm ? " + fc_norm" : "") << ", LayerNorm eps " << layerNormEps
        << (layerScale ? ", LayerScale" : "") << (qkvBias ? "" : ", no qkv bias")
        << (noEmbedClass ? ", no_embed_class" : "") << "\n";
    out << "preprocess   " << preprocessing.describe() << "\n";
    return out.str();
}

nlohmann::json ModelSpec::toJson() const {
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
