#include "widgets/head_importance.h"

#include "core/heads/importance.h"
#include "core/model/model.h"
#include "core/util/error.h"

namespace fovea {

HeadImportanceValues imageImportance(Model& model, const std::vector<std::string>& inputs,
                                     Progress& progress) {
    if (inputs.empty()) throw Error("head importance", "no inputs: open images first");
    std::vector<ImportanceSample> samples;
    for (std::size_t i = 0; i < inputs.size() && int(i) < kImportanceInputs; ++i) {
        samples.push_back({loadImageInput(inputs[i], model.spec()), -1});
    }
    HeadImportanceOptions options;
    options.gradientProxy = false;  // the KL needs the masked passes only
    options.order = ImportanceOrder::KlDivergence;
    const HeadImportanceReport report = computeHeadImportance(model, samples, options, progress);
    HeadImportanceValues importance;
    importance.name = "KL when switched off (" + std::to_string(report.inputs) +
                      (report.inputs == 1 ? " input)" : " inputs)");
    for (const HeadImportance& head : report.heads)
        importance.values.emplace_back(HeadKey{head.layer, head.head}, head.klDivergence);
    return importance;
}

void applyImportance(HeadData& data, const HeadImportanceValues& importance) {
    for (HeadPoint& point : data.points) {
        for (const auto& [key, value] : importance.values) {
            if (key == point.key) point.importance = value;
        }
    }
    data.importanceName = importance.name;
}

}  // namespace fovea
