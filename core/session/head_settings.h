// How the head views are set, and the head intervention the user made: which heads are switched
// off or scaled. Part of a session (SessionState::heads), so a study reopens with the same
// model intervention, atlas colouring, embedding and selection.
//
//     HeadSettings heads;
//     heads.setScale(2, 3, 0.0f);        // switch off head 3 of layer 2
//     heads.setScale(0, 1, 1.5f);        // amplify head 1 of layer 0
//     heads.scaleOf(2, 3);               // 0
//     heads.setScale(2, 3, 1.0f);        // back to normal: the entry disappears
//     nlohmann::json json = heads.toJson();
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace fovea {

// One intervened head: its attention output (before the output projection) times `scale`.
struct HeadScaleEntry {
    int layer = 0;
    int head = 0;
    float scale = 1.0f;  // 0: switched off; 0..kMaxHeadScale
    bool operator==(const HeadScaleEntry& other) const {
        return layer == other.layer && head == other.head && scale == other.scale;
    }
};

constexpr float kMaxHeadScale = 2.0f;

struct HeadSettings {
    std::string atlasColouring = "attention";  // attention | labels | importance | cluster
    std::string embedding = "pca";             // pca | tsne
    std::string scatterColouring = "cluster";  // cluster | label
    int clusters = 0;                          // k; 0: chosen by silhouette
    std::vector<HeadScaleEntry> scales;  // heads not listed keep scale 1 (sorted by layer, head)
    std::vector<std::pair<int, int>> selection;  // (layer, head) selected in the atlas and scatter

    // 1 for heads not listed.
    float scaleOf(int layer, int head) const;
    // Sets one head's scale (1 removes the entry); throws fovea::Error outside 0..kMaxHeadScale.
    void setScale(int layer, int head, float scale);
    bool intervened() const { return !scales.empty(); }

    nlohmann::json toJson() const;
    // Missing fields keep their defaults; wrong types or values throw fovea::Error naming the
    // field.
    static HeadSettings fromJson(const nlohmann::json& json);
};

}  // namespace fovea
