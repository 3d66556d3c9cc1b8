#include "core/session/session.h"

#include "core/image/colormap.h"
#include "core/io/json_file.h"
#include "core/session/json_field.h"
#include "core/util/error.h"

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace fovea {
namespace {

std::string storedPath(const std::string& path, const fs::path& base) {
    if (path.empty()) return path;
    const fs::path absolute = fs::absolute(path).lexically_normal();
    const fs::path relative = absolute.lexically_relative(base);
    if (!relative.empty() && *relative.begin() != "..") return relative.generic_string();
    return absolute.generic_string();
}

std::string resolvedPath(const std::string& path, const fs::path& base) {
    if (path.empty()) return path;
    const fs::path p(path);
    return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

}  // namespace

nlohmann::json ViewSettings::toJson() const {
    nlohmann::json parameters = nlohmann::json::object();
    for (const auto& [name, value] : params) parameters[name] = value;
    return {{"method", method},
            {"params", parameters},
            {"layer", layer},
            {"heads", heads},
            {"query", query},
            {"discard_ratio", discardRatio},
            {"range", rangeMode},
            {"percentile", percentile},
            {"threshold", threshold},
            {"contours", contours},
            {"exclude_sinks", excludeSinks},
            {"colormap", figure.colormap},
            {"opacity", figure.opacity},
            {"smooth", figure.smooth},
            {"low", figure.low},
            {"high", figure.high},
            {"title", figure.title},
            {"colorbar", figure.colorbar}};
}

ViewSettings ViewSettings::fromJson(const nlohmann::json& json) {
    const std::string subject = "session view settings";
    if (!json.is_object()) throw Error(subject, "expected a JSON object");
    ViewSettings view;
    readJsonField(json, "method", view.method, subject);
    readJsonField(json, "layer", view.layer, subject);
    readJsonField(json, "heads", view.heads, subject);
    readJsonField(json, "query", view.query, subject);
    readJsonField(json, "discard_ratio", view.discardRatio, subject);
    if (json.contains("params")) {
        const nlohmann::json& parameters = json.at("params");
        if (!parameters.is_object())
            throw Error(subject, "params must be an object of name: number");
        for (const auto& [name, value] : parameters.items()) {
            if (!value.is_number() || !std::isfinite(value.get<double>()))
                throw Error(subject, "parameter '" + name + "' must be a finite number");
            view.params[name] = value.get<double>();
        }
    }
    readJsonField(json, "range", view.rangeMode, subject);
    readJsonField(json, "percentile", view.percentile, subject);
    readJsonField(json, "threshold", view.threshold, subject);
    readJsonField(json, "contours", view.contours, subject);
    readJsonField(json, "exclude_sinks", view.excludeSinks, subject);
    if (view.contours < 0 || view.contours > 20) throw Error(subject, "contours must be 0..20");
    readJsonField(json, "colormap", view.figure.colormap, subject);
    readJsonField(json, "opacity", view.figure.opacity, subject);
    readJsonField(json, "smooth", view.figure.smooth, subject);
    readJsonField(json, "low", view.figure.low, subject);
    readJsonField(json, "high", view.figure.high, subject);
    readJsonField(json, "title", view.figure.title, subject);
    readJsonField(json, "colorbar", view.figure.colorbar, subject);
    if (view.rangeMode != "auto" && view.rangeMode != "fixed" && view.rangeMode != "percentile") {
        throw Error(subject,
                    "range '" + view.rangeMode + "' is not one of auto, fixed, percentile");
    }
    if (!isColormapName(view.figure.colormap))
        throw Error(subject, "unknown colormap '" + view.figure.colormap + "'");
    if (!(view.figure.opacity >= 0.0f && view.figure.opacity <= 1.0f))
        throw Error(subject, "opacity must be in 0..1");
    if (!(view.percentile > 0.0f && view.percentile <= 100.0f))
        throw Error(subject, "percentile must be in (0, 100]");
    view.figure.autoRange = view.rangeMode == "auto";
    return view;
}

nlohmann::json SessionState::toJson() const {
    return {{"fovea_session", kSessionFormatVersion},
            {"model", modelPath},
            {"inputs", inputs},
            {"current_input", currentInput},
            {"view", view.toJson()},
            {"comparison",
             [this] {
                 nlohmann::json panels = nlohmann::json::array();
                 for (std::size_t i = 0; i < comparison.size(); ++i) {
                     nlohmann::json panel = comparison[i].toJson();
                     panel["input"] =
                         i < comparisonInputs.size() ? comparisonInputs[i] : std::string();
                     panels.push_back(panel);
                 }
                 return panels;
             }()},
            {"comparison_shared_range", comparisonSharedRange},
            {"segment", segment.toJson()},
            {"text", text.toJson()},
            {"heads", heads.toJson()}};
}

void saveSession(const std::string& path, const SessionState& state) {
    const fs::path base = fs::absolute(path).parent_path().lexically_normal();
    SessionState stored = state;
    stored.modelPath = storedPath(state.modelPath, base);
    for (std::string& input : stored.inputs) input = storedPath(input, base);
    for (std::string& input : stored.comparisonInputs) input = storedPath(input, base);
    stored.segment.mapPaths([&base](const std::string& file) { return storedPath(file, base); });
    stored.text.mapPaths([&base](const std::string& file) { return storedPath(file, base); });
    writeJsonFile(path, stored.toJson());
}

SessionLoad loadSession(const std::string& path) {
    const nlohmann::json json = readJsonFile(path);
    if (!json.is_object() || !json.contains("fovea_session"))
        throw Error(path, "not a Fovea session (no 'fovea_session' field)");
    if (!json["fovea_session"].is_number_integer() ||
        json["fovea_session"].get<int>() > kSessionFormatVersion) {
        throw Error(path, "session format " + json["fovea_session"].dump() +
                              " is newer than this Fovea understands (" +
                              std::to_string(kSessionFormatVersion) + ")");
    }
    const fs::path base = fs::absolute(path).parent_path();
    SessionLoad load;
    try {
        std::string model;
        std::vector<std::string> inputs;
        readJsonField(json, "model", model, path);
        readJsonField(json, "inputs", inputs, path);
        readJsonField(json, "current_input", load.state.currentInput, path);
        if (json.contains("view")) load.state.view = ViewSettings::fromJson(json["view"]);
        if (json.contains("comparison")) {
            if (!json["comparison"].is_array() || json["comparison"].size() > 4) {
                throw Error("field 'comparison' must be a list of at most 4 views");
            }
            for (const nlohmann::json& panel : json["comparison"]) {
                load.state.comparison.push_back(ViewSettings::fromJson(panel));
                std::string input;
                readJsonField(panel, "input", input, path);
                input = resolvedPath(input, base);
                if (!input.empty() && !fs::exists(input)) {
                    load.warnings.push_back("comparison input '" + input +
                                            "' is missing; the panel shows the current input");
                    input.clear();
                }
                load.state.comparisonInputs.push_back(input);
            }
        }
        readJsonField(json, "comparison_shared_range", load.state.comparisonSharedRange, path);
        if (json.contains("segment"))
            load.state.segment = SegmentSettings::fromJson(json["segment"]);
        if (json.contains("heads")) load.state.heads = HeadSettings::fromJson(json["heads"]);
        load.state.segment.mapPaths(
            [&base](const std::string& file) { return resolvedPath(file, base); });
        for (std::string& warning : load.state.segment.dropMissingGroundTruth())
            load.warnings.push_back(warning);
        if (json.contains("text")) load.state.text = TextSettings::fromJson(json["text"]);
        load.state.text.mapPaths(
            [&base](const std::string& file) { return resolvedPath(file, base); });
        load.state.modelPath = resolvedPath(model, base);
        if (!model.empty() && !fs::exists(load.state.modelPath)) {
            load.warnings.push_back("model '" + load.state.modelPath + "' is missing");
        }
        const std::string current =
            load.state.currentInput >= 0 && load.state.currentInput < int(inputs.size())
                ? resolvedPath(inputs[std::size_t(load.state.currentInput)], base)
                : std::string();
        for (const std::string& input : inputs) {
            const std::string resolved = resolvedPath(input, base);
            if (fs::exists(resolved)) {
                load.state.inputs.push_back(resolved);
            } else {
                load.warnings.push_back("input '" + resolved + "' is missing");
            }
        }
        load.state.currentInput = -1;
        for (std::size_t i = 0; i < load.state.inputs.size(); ++i) {
            if (load.state.inputs[i] == current) load.state.currentInput = int(i);
        }
        if (load.state.currentInput < 0 && !load.state.inputs.empty()) load.state.currentInput = 0;
    } catch (const Error& error) {
        throw Error(path, error.what());
    }
    return load;
}

}  // namespace fovea
