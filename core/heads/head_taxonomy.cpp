#include "core/heads/head_taxonomy.h"

#include "core/util/error.h"

#include <cmath>

namespace fovea {

namespace {

struct LabelText {
    const char* name;
    const char* rule;
    RgbColour colour;
};

// Colours: Tableau 10 (qualitative, readable on white and on dark backgrounds); uniform is a
// neutral grey because it is the "no structure" label.
const LabelText kLabels[kHeadLabelCount] = {
    {"local", "mean attention distance at most half that of uniform attention", {78, 121, 167}},
    {"global", "mean attention distance at least 0.8 of uniform attention, not uniform", {242, 142, 43}},
    {"cls-collector", "at least half of each query's attention on CLS", {225, 87, 89}},
    {"sink", "at least half the attention on tokens that each take more than tau (CLS aside)", {121, 112, 110}},
    {"self", "at least half of each query's attention on itself", {89, 161, 79}},
    {"previous-token", "text: at least 0.4 of the attention on the previous token", {237, 201, 72}},
    {"induction", "text: at least 0.4 on the token after an earlier copy of the query's token", {176, 122, 161}},
    {"duplicate-token", "text: at least 0.4 on earlier copies of the query's token", {255, 157, 167}},
    {"row", "image grid: patch attention on the query's row, 0.5 or more beyond chance", {156, 117, 95}},
    {"column", "image grid: patch attention on the query's column, 0.5 or more beyond chance", {118, 183, 178}},
    {"uniform", "normalised entropy at least 0.9: attention spread almost evenly", {186, 176, 172}},
};

// NaN (not applicable) never passes a threshold.
bool atLeast(float value, double threshold) { return !std::isnan(value) && value >= threshold; }
bool atMost(float value, double threshold) { return !std::isnan(value) && value <= threshold; }
float orZero(float value) { return std::isnan(value) ? 0.0f : value; }

}  // namespace

const char* headLabelName(HeadLabel label) { return kLabels[int(label)].name; }
const char* headLabelRule(HeadLabel label) { return kLabels[int(label)].rule; }
RgbColour headLabelColour(HeadLabel label) { return kLabels[int(label)].colour; }

const std::array<HeadLabel, kHeadLabelCount>& allHeadLabels() {
    static const std::array<HeadLabel, kHeadLabelCount> all = [] {
        std::array<HeadLabel, kHeadLabelCount> a{};
        for (int i = 0; i < kHeadLabelCount; ++i) a[std::size_t(i)] = HeadLabel(i);
        return a;
    }();
    return all;
}

HeadLabel headLabelFromName(const std::string& name) {
    for (HeadLabel label : allHeadLabels()) {
        if (name == headLabelName(label)) return label;
    }
    throw Error("unknown head label '" + name + "' (labels: local, global, cls-collector, sink, self, previous-token, "
                "induction, duplicate-token, row, column, uniform)");
}

std::vector<HeadLabel> classifyHead(const HeadFeatures& f, const HeadFeatureTable& table,
                                    const HeadTaxonomyThresholds& t) {
    const bool text = table.modality == Modality::Text;
    const bool uniform = atLeast(f[HeadFeature::NormalizedEntropy], t.uniformEntropy);
    const bool clsCollector = atLeast(f[HeadFeature::ClsShare], t.clsShare);
    const float cls = orZero(f[HeadFeature::ClsShare]);
    const float sinkWithoutCls = orZero(f[HeadFeature::SinkShare]) - (cls > t.sinkTau ? cls : 0.0f);
    const bool sink = sinkWithoutCls >= t.sinkShare;
    const bool self = atLeast(f[HeadFeature::SelfShare], t.selfShare);
    const bool previous = text && atLeast(f[HeadFeature::PreviousToken], t.patternScore);
    const bool duplicate = text && atLeast(f[HeadFeature::DuplicateToken], t.patternScore);
    const bool induction = text && atLeast(f[HeadFeature::Induction], t.patternScore);
    const bool content = !clsCollector && !sink && cls + orZero(f[HeadFeature::RegisterShare]) < t.contentShare;
    const bool row = table.grid && content && atLeast(f[HeadFeature::RowAlignment], t.alignment);
    const bool column = table.grid && content && atLeast(f[HeadFeature::ColumnAlignment], t.alignment);
    const bool specific = self || previous || duplicate || induction || row || column;
    const bool local = content && !specific && atMost(f[HeadFeature::DistanceRatio], t.localRatio);
    const bool global = content && !specific && !uniform && atLeast(f[HeadFeature::DistanceRatio], t.globalRatio);

    std::vector<HeadLabel> labels;
    auto add = [&](bool on, HeadLabel label) {
        if (on) labels.push_back(label);
    };
    add(local, HeadLabel::Local);
    add(global, HeadLabel::Global);
    add(clsCollector, HeadLabel::ClsCollector);
    add(sink, HeadLabel::Sink);
    add(self, HeadLabel::Self);
    add(previous, HeadLabel::PreviousToken);
    add(induction, HeadLabel::Induction);
    add(duplicate, HeadLabel::DuplicateToken);
    add(row, HeadLabel::Row);
    add(column, HeadLabel::Column);
    add(uniform, HeadLabel::Uniform);
    return labels;
}

std::vector<std::vector<HeadLabel>> classifyHeads(const HeadFeatureTable& table, const HeadTaxonomyThresholds& thresholds) {
    std::vector<std::vector<HeadLabel>> out;
    out.reserve(table.heads.size());
    for (const HeadSummary& head : table.heads) out.push_back(classifyHead(head.mean, table, thresholds));
    return out;
}

std::string joinHeadLabels(const std::vector<HeadLabel>& labels, char separator) {
    std::string out;
    for (HeadLabel label : labels) {
        if (!out.empty()) out += separator;
        out += headLabelName(label);
    }
    return out;
}

bool hasHeadLabel(const std::vector<HeadLabel>& labels, HeadLabel label) {
    for (HeadLabel l : labels) {
        if (l == label) return true;
    }
    return false;
}

}  // namespace fovea
