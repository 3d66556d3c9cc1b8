// How the Text page of the workbench is set for language models: the text (and BERT's second
// text) as typed, what to do with text longer than the context, the tokenizer when the model
// folder has none, which layer and heads the token views show, and the explanation method of
// the saliency view. Part of a session (SessionState::text).
//
//     TextSettings settings;
//     settings.text = "The cat sat on the mat.";
//     settings.heads = {0, 3};            // empty: every head
//     nlohmann::json json = settings.toJson();
//     TextSettings back = TextSettings::fromJson(json);
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fovea {

struct TextSettings {
    std::string text;
    std::string textPair;               // BERT sentence pairs; "" for one text
    std::string overflow = "truncate";  // truncate (with a notice) | refuse
    std::string tokenizer;       // a tokenizer folder or tokenizer.json; "": the model folder's
    int layer = -1;              // -1: the last layer
    std::vector<int> heads;      // the heads shown; empty: all
    std::string page = "heads";  // heads | matrix | saliency | atlas
    std::string method;          // saliency method (text_explain.h); "": the default
    int position =
        -1;  // GPT-2: the position whose next-token prediction is explained; -1: the last
    std::string colormap = "viridis";  // matrix and atlas

    bool showsHead(int head) const;
    nlohmann::json toJson() const;
    // Missing fields keep their defaults; wrong types or values throw fovea::Error naming the
    // field.
    static TextSettings fromJson(const nlohmann::json& json);
    // Rewrites the tokenizer path (e.g. relative to a session's folder).
    void mapPaths(const std::function<std::string(const std::string&)>& map);
};

}  // namespace fovea
