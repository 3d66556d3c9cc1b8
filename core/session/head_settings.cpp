#include "core/session/head_settings.h"

#include "core/session/json_field.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

const std::string kSubject = "session head settings";

void checkOneOf(const std::string& field, const std::string& value,
                std::initializer_list<const char*> allowed) {
    std::string names;
    for (const char* name : allowed) {
        if (value == name) return;
        names += names.empty() ? name : std::string(", ") + name;
    }
    throw Error(kSubject, "'" + field + "' is '" + value + "', not one of " + names);
}

void checkScale(float scale) {
    if (!std::isfinite(scale) || scale < 0.0f || scale > kMaxHeadScale) {
        throw Error(kSubject, "head scale " + std::to_string(scale) +
                                  " is outside 0..2 (0 switches the head off, 1 leaves it)");
    }
}

template <typename T>
void readField(const nlohmann::json& json, const char* name, T& value) {
    readJsonField(json, name, value, kSubject);
}

}  // namespace

float HeadSettings::scaleOf(int layer, int head) const {
    for (const HeadScaleEntry& entry : scales) {
        if (entry.layer == layer && entry.head == head) return entry.scale;
    }
    return 1.0f;
}

void HeadSettings::setScale(int layer, int head, float scale) {
    checkScale(scale);
    if (layer < 0 || head < 0)
        throw Error(kSubject, "head (" + std::to_string(layer) + ", " + std::to_string(head) +
                                  ") does not exist");
    scales.erase(
        std::remove_if(scales.begin(), scales.end(),
                       [&](const HeadScaleEntry& e) { return e.layer == layer && e.head == head; }),
        scales.end());
    if (scale != 1.0f) scales.push_back({layer, head, scale});
    std::sort(scales.begin(), scales.end(), [](const HeadScaleEntry& a, const HeadScaleEntry& b) {
        return std::pair(a.layer, a.head) < std::pair(b.layer, b.head);
    });
}

nlohmann::json HeadSettings::toJson() const {
    nlohmann::json scaled = nlohmann::json::array();
    for (const HeadScaleEntry& e : scales)
        scaled.push_back({{"layer", e.layer}, {"head", e.head}, {"scale", e.scale}});
    nlohmann::json selected = nlohmann::json::array();
    for (const auto& [layer, head] : selection) selected.push_back({layer, head});
    return {{"atlas_colouring", atlasColouring},
            {"embedding", embedding},
            {"scatter_colouring", scatterColouring},
            {"clusters", clusters},
            {"scales", scaled},
            {"selection", selected}};
}

HeadSettings HeadSettings::fromJson(const nlohmann::json& json) {
    if (!json.is_object()) throw Error(kSubject, "expected a JSON object");
    HeadSettings settings;
    readField(json, "atlas_colouring", settings.atlasColouring);
    readField(json, "embedding", settings.embedding);
    readField(json, "scatter_colouring", settings.scatterColouring);
    readField(json, "clusters", settings.clusters);
    checkOneOf("atlas_colouring", settings.atlasColouring,
               {"attention", "labels", "importance", "cluster"});
    checkOneOf("embedding", settings.embedding, {"pca", "tsne"});
    checkOneOf("scatter_colouring", settings.scatterColouring, {"cluster", "label"});
    if (settings.clusters < 0 || settings.clusters > 32)
        throw Error(kSubject, "'clusters' must be 0 (automatic) or 1..32");
    if (json.contains("scales")) {
        const nlohmann::json& scaled = json["scales"];
        if (!scaled.is_array())
            throw Error(kSubject, "'scales' must be a list of {layer, head, scale}");
        for (const nlohmann::json& entry : scaled) {
            if (!entry.is_object() || !entry.contains("layer") || !entry.contains("head") ||
                !entry.contains("scale") || !entry["layer"].is_number_integer() ||
                !entry["head"].is_number_integer() || !entry["scale"].is_number()) {
                throw Error(
                    kSubject,
                    "each entry of 'scales' needs integer layer and head and a number scale: " +
                        entry.dump());
            }
            settings.setScale(entry["layer"].get<int>(), entry["head"].get<int>(),
                              entry["scale"].get<float>());
        }
    }
    if (json.contains("selection")) {
        const nlohmann::json& selected = json["selection"];
        if (!selected.is_array())
            throw Error(kSubject, "'selection' must be a list of [layer, head]");
        for (const nlohmann::json& pair : selected) {
            if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() ||
                !pair[1].is_number_integer() || pair[0].get<int>() < 0 || pair[1].get<int>() < 0) {
                throw Error(kSubject,
                            "each entry of 'selection' must be [layer, head] with indices >= 0: " +
                                pair.dump());
            }
            settings.selection.emplace_back(pair[0].get<int>(), pair[1].get<int>());
        }
    }
    return settings;
}

}  // namespace fovea
