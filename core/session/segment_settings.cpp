#include "core/session/segment_settings.h"

#include "core/session/json_field.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fovea {
namespace {

const char* const kSubject = "session segmentation settings";

template <typename T>
void readField(const nlohmann::json& json, const char* name, T& value) {
    readJsonField(json, name, value, kSubject);
}

}  // namespace

SegmentParams SegmentSettings::resolvedParams() const {
    const Segmenter& segmenter = findSegmenter(method);
    const auto given = params.find(method);
    return segmenter.resolve(given == params.end() ? SegmentParams{} : given->second);
}

bool SegmentSettings::isHidden(int label) const {
    return std::find(hidden.begin(), hidden.end(), label) != hidden.end();
}

std::string SegmentSettings::groundTruthFor(const std::string& inputPath) const {
    const auto found = groundTruth.find(inputPath);
    return found == groundTruth.end() ? std::string() : found->second;
}

nlohmann::json SegmentSettings::toJson() const {
    nlohmann::json parameters = nlohmann::json::object();
    for (const auto& [name, values] : params) {
        nlohmann::json entry = nlohmann::json::object();
        for (const auto& [key, value] : values) entry[key] = value;
        parameters[name] = entry;
    }
    nlohmann::json truth = nlohmann::json::object();
    for (const auto& [input, file] : groundTruth) truth[input] = file;
    return {{"method", method},   {"params", parameters}, {"layer", layer}, {"map_method", mapMethod},
            {"opacity", opacity}, {"contours", contours}, {"boxes", boxes}, {"show_ground_truth", showGroundTruth},
            {"hidden", hidden},   {"ground_truth", truth}};
}

SegmentSettings SegmentSettings::fromJson(const nlohmann::json& json) {
    if (!json.is_object()) throw Error(kSubject, "expected a JSON object");
    SegmentSettings settings;
    readField(json, "method", settings.method);
    findSegmenter(settings.method);  // an unknown name throws, listing the known ones
    if (json.contains("params")) {
        const nlohmann::json& all = json.at("params");
        if (!all.is_object()) throw Error(kSubject, "params must be an object of method: {name: number}");
        for (const auto& [name, values] : all.items()) {
            if (!values.is_object()) {
                throw Error(kSubject, "params of '" + name + "' must be an object of name: number");
            }
            for (const auto& [key, value] : values.items()) {
                if (!value.is_number() || !std::isfinite(value.get<double>())) {
                    throw Error(kSubject, "parameter '" + name + "." + key + "' must be a finite number");
                }
                settings.params[name][key] = value.get<double>();
            }
        }
    }
    readField(json, "layer", settings.layer);
    readField(json, "map_method", settings.mapMethod);
    readField(json, "opacity", settings.opacity);
    readField(json, "contours", settings.contours);
    readField(json, "boxes", settings.boxes);
    readField(json, "show_ground_truth", settings.showGroundTruth);
    readField(json, "hidden", settings.hidden);
    readField(json, "ground_truth", settings.groundTruth);
    if (!(settings.opacity >= 0.0f && settings.opacity <= 1.0f)) throw Error(kSubject, "opacity must be in 0..1");
    if (settings.layer < -1) throw Error(kSubject, "layer must be -1 (the last) or a layer index");
    // Parameters are checked against each method's ranges now, so a hand-edited session fails on
    // opening rather than at the first segmentation.
    for (const auto& [name, values] : settings.params) findSegmenter(name).resolve(values);
    return settings;
}

void SegmentSettings::mapPaths(const std::function<std::string(const std::string&)>& map) {
    std::map<std::string, std::string> mapped;
    for (const auto& [input, file] : groundTruth) mapped[map(input)] = map(file);
    groundTruth = std::move(mapped);
}

std::vector<std::string> SegmentSettings::dropMissingGroundTruth() {
    std::vector<std::string> warnings;
    for (auto entry = groundTruth.begin(); entry != groundTruth.end();) {
        if (std::filesystem::exists(entry->second)) {
            ++entry;
            continue;
        }
        warnings.push_back("ground truth '" + entry->second + "' is missing; " +
                           std::filesystem::path(entry->first).filename().string() + " is shown without it");
        entry = groundTruth.erase(entry);
    }
    return warnings;
}

}  // namespace fovea
