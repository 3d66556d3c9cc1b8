// What the head views draw: the atlas colourings, the heads scatter, the 3D head cloud and the
// sink timeline all paint from these plain values. The window fills them from core/heads
// (widgets/head_figures.h); tests fill them with planted values, so every view can be checked
// without a model.
//
//     HeadData data;
//     data.layers = 2; data.heads = 2;
//     data.labels = {{"local", {230, 159, 0}}};
//     data.points.push_back(HeadPoint{{0, 1}, /*x*/ 0.3, /*y*/ -1.2});
//     data.points.back().labels = {0};
//     HeadScatterPainter scatter;  scatter.setData(data);
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

// One head of one layer (model indices).
struct HeadKey {
    int layer = 0;
    int head = 0;
    bool operator<(const HeadKey& other) const {
        return layer < other.layer || (layer == other.layer && head < other.head);
    }
    bool operator==(const HeadKey& other) const {
        return layer == other.layer && head == other.head;
    }
    bool operator!=(const HeadKey& other) const { return !(*this == other); }
};
using HeadSet = std::set<HeadKey>;
using Rgb = std::array<std::uint8_t, 3>;

// One taxonomy label as the legend shows it.
struct HeadLabelStyle {
    std::string name;
    Rgb rgb{128, 128, 128};
    std::string description;  // one line for the tooltip
};

struct HeadPoint {
    HeadKey key;
    double x = 0.0, y = 0.0;             // the 2D embedding shown (PCA or t-SNE)
    std::array<double, 3> xyz{0, 0, 0};  // the 3D embedding (PCA)
    int cluster = -1;                    // -1: not clustered
    std::vector<int> labels;             // indices into HeadData::labels, strongest first
    double importance = std::numeric_limits<double>::quiet_NaN();
    std::vector<std::pair<std::string, double>> features;  // name, value (hover card)
    cv::Mat pattern;  // CV_32F thumbnail of the head's attention (hover card)
};

struct HeadData {
    int layers = 0;
    int heads = 0;
    std::vector<HeadPoint> points;
    std::vector<HeadLabelStyle> labels;
    std::vector<std::string> clusterNames;  // index = cluster
    std::string embedding = "pca";          // what x, y are: pca | tsne
    std::string importanceName;             // what importance measures; empty: none known
    std::string note;                       // e.g. "k = 3 chosen by silhouette 0.61"

    bool empty() const { return points.empty(); }
    // Null when the head is not in the data.
    const HeadPoint* find(const HeadKey& key) const;
    // Lowest and highest finite importance (NaN, NaN when none).
    std::pair<double, double> importanceRange() const;
};

// A qualitative palette for clusters (Okabe & Ito's colour-blind-safe colours, then a few more);
// cluster -1 is grey.
Rgb clusterColour(int cluster);

// The layer x token sink timeline: how much of the queries' attention each token receives in
// each layer, and which tokens are sinks (receive more than tau) for long (primary) or only in
// a middle span of layers (secondary).
struct SinkTimeline {
    std::vector<int> layers;               // model layer of each row
    cv::Mat mass;                          // CV_32F, rows = layers, cols = tokens
    std::vector<std::string> tokenLabels;  // one per column ("CLS", "p(3,4)", "the", ...)
    double tau = 0.2;
    std::vector<int> primary;  // token indices
    std::vector<int> secondary;

    bool empty() const { return mass.empty(); }
};

// Scales applied to heads (absent: 1, unchanged; 0: switched off), as the atlas marks them.
using HeadScaleMap = std::map<HeadKey, float>;

}  // namespace fovea
