// Head taxonomy: documented detectors that give each head zero or more labels (local, global,
// CLS collector, sink, self, previous-token, induction, duplicate-token, row, column, uniform)
// from its features (head_features.h). Each label has a colour for the atlas legend.
//
//     HeadFeatureTable table = features.table();
//     std::vector<std::vector<HeadLabel>> labels = classifyHeads(table);
//     for (HeadLabel label : labels[0]) {
//         RgbColour c = headLabelColour(label);
//         std::printf("%s (#%02x%02x%02x): %s\n", headLabelName(label), c.red, c.green, c.blue,
//                     headLabelRule(label));
//     }
//     std::string cell = joinHeadLabels(labels[0]);  // "local|row"
//
// The rules (thresholds in HeadTaxonomyThresholds; mean features over the inputs):
//   uniform        NormalizedEntropy >= 0.9: the head spreads its mass almost evenly.
//   cls-collector  ClsShare >= 0.5: at least half of every query's mass goes to CLS.
//   sink           SinkShare without CLS >= 0.5: half the mass lands on tokens that each take more
//                  than tau of it (CLS counts as cls-collector instead).
//   self           SelfShare >= 0.5.
//   previous-token text: PreviousToken >= 0.4 (TransformerLens pattern, pattern rows).
//   duplicate-token text with ids: DuplicateToken >= 0.4.
//   induction      text with ids: Induction >= 0.4 (on a sequence repeated twice).
//   row / column   grids: RowAlignment (ColumnAlignment) >= 0.5, beyond chance and excluding the
//                  query's own patch, so a local blob (which is as much row as column) is neither.
//   local          DistanceRatio <= 0.5: half the distance uniform attention would have.
//   global         DistanceRatio >= 0.8 and not uniform.
// Spatial labels (local, global, row, column) need the mass to stay on content: they are only
// given when neither sink nor cls-collector holds and ClsShare + RegisterShare < 0.5 (a head that
// parks its mass on one token has no meaningful spread). More specific labels suppress the
// generic ones: self, previous-token, duplicate-token, induction, row and column suppress local
// and global (a previous-token head is local by nature, an induction head reaches far by nature).
// The thresholds are deliberately round: they separate the planted patterns of the tests with a
// wide margin, and a head between two regimes keeps no label rather than a wrong one.
#pragma once

#include "core/heads/head_features.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

enum class HeadLabel : int {
    Local,
    Global,
    ClsCollector,
    Sink,
    Self,
    PreviousToken,
    Induction,
    DuplicateToken,
    Row,
    Column,
    Uniform,
};
constexpr int kHeadLabelCount = 11;

struct RgbColour {
    std::uint8_t red = 0, green = 0, blue = 0;
};

const char* headLabelName(HeadLabel label);  // "local", "cls-collector", "previous-token", ...
const char* headLabelRule(HeadLabel label);  // the rule in one line, for tooltips and docs
RgbColour headLabelColour(HeadLabel label);  // a qualitative palette, distinct on white and black
const std::array<HeadLabel, kHeadLabelCount>& allHeadLabels();
// Parses a name of headLabelName; throws fovea::Error naming the unknown label.
HeadLabel headLabelFromName(const std::string& name);

struct HeadTaxonomyThresholds {
    double uniformEntropy = 0.9;   // NormalizedEntropy at or above: uniform
    double clsShare = 0.5;         // ClsShare at or above: cls-collector
    double sinkShare = 0.5;        // SinkShare (without CLS) at or above: sink
    double sinkTau = 0.2;          // must match HeadFeatureOptions::sinkTau (to tell CLS apart)
    double selfShare = 0.5;        // SelfShare at or above: self
    double patternScore = 0.4;     // previous-token / duplicate-token / induction scores
    double alignment = 0.5;        // row / column alignment beyond chance
    double localRatio = 0.5;       // DistanceRatio at or below: local
    double globalRatio = 0.8;      // DistanceRatio at or above: global
    double contentShare = 0.5;     // spatial labels need ClsShare + RegisterShare below this
};

// Labels of one head (in HeadLabel order). `table` says the modality and whether it is a grid.
std::vector<HeadLabel> classifyHead(const HeadFeatures& features, const HeadFeatureTable& table,
                                    const HeadTaxonomyThresholds& thresholds = {});
// Labels of every head of the table, in table.heads order.
std::vector<std::vector<HeadLabel>> classifyHeads(const HeadFeatureTable& table,
                                                  const HeadTaxonomyThresholds& thresholds = {});
std::string joinHeadLabels(const std::vector<HeadLabel>& labels, char separator = '|');
bool hasHeadLabel(const std::vector<HeadLabel>& labels, HeadLabel label);

}  // namespace fovea
