// A Fovea session: which model, which inputs, and how the view is set, saved as a `.fovea` JSON
// file. Written atomically (temporary file + rename): a crash never leaves half a session.
// Opening is forgiving: a missing model or image becomes a warning and the rest still opens.
//
//     SessionState state;
//     state.modelPath = "resources/models/shapes-vit";
//     state.inputs = {"scene.png"};
//     saveSession("study.fovea", state);
//     SessionLoad loaded = loadSession("study.fovea");   // loaded.warnings: what is missing
#pragma once

#include "core/image/figure.h"
#include "core/session/head_settings.h"
#include "core/session/segment_settings.h"
#include "core/session/text_settings.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace fovea {

// How the heatmap view is set. The names match the CLI options of `fovea run`.
struct ViewSettings {
    std::string method = "raw";     // raw | rollout | ...
    int layer = -1;                 // -1: the last layer
    std::string heads = "mean";     // mean | max | min | head index
    int query = -1;                 // sequence index; -1: the CLS token (or the first token)
    float discardRatio = 0.0f;      // rollout
    // The method's other parameters (name -> value, e.g. "steps" -> 64); absent ones take the
    // method's defaults. Kept per name, so switching methods and back keeps what was set.
    std::map<std::string, double> params;
    std::string rangeMode = "auto"; // auto | fixed | percentile
    float percentile = 99.0f;       // percentile mode: the upper end of the range
    float threshold = -1.0f;        // cells below are masked (0..1 of the range); < 0: off
    int contours = 0;               // iso-lines drawn over the map; 0: none
    bool excludeSinks = false;      // attention maps without the attention sinks' keys, renormalised
    FigureOptions figure;           // colormap, opacity, smooth, fixed low/high, title, colorbar

    nlohmann::json toJson() const;
    // Missing fields keep their defaults; wrong types or values throw fovea::Error.
    static ViewSettings fromJson(const nlohmann::json& json);
};

struct SessionState {
    std::string modelPath;
    std::vector<std::string> inputs;
    int currentInput = -1;
    ViewSettings view;
    std::vector<ViewSettings> comparison;  // 0..4 panels of the comparison view
    std::vector<std::string> comparisonInputs;  // per panel: its input ("" = the current input)
    bool comparisonSharedRange = true;
    SegmentSettings segment;  // the segmentation view
    TextSettings text;        // the Text page (language models)
    HeadSettings heads;       // head views and the head intervention (scaled / switched-off heads)

    nlohmann::json toJson() const;
};

struct SessionLoad {
    SessionState state;
    std::vector<std::string> warnings;  // one line each, e.g. "input 'a.png' is missing"
};

constexpr int kSessionFormatVersion = 1;

// Paths inside the file are stored relative to the session's folder when they lie below it,
// so a study folder can be moved as a whole.
void saveSession(const std::string& path, const SessionState& state);
// Throws fovea::Error for a file that is not a Fovea session (or is corrupt); missing models
// and inputs are warnings (the model path is kept, missing inputs are dropped).
SessionLoad loadSession(const std::string& path);

}  // namespace fovea
