#include "core/session/text_settings.h"

#include "core/image/colormap.h"
#include "core/session/json_field.h"
#include "core/util/error.h"

#include <algorithm>

namespace fovea {
namespace {

const char* const kSubject = "session text settings";

template <typename T>
void readField(const nlohmann::json& json, const char* name, T& value) {
    readJsonField(json, name, value, kSubject);
}

}  // namespace

bool TextSettings::showsHead(int head) const {
    return heads.empty() || std::find(heads.begin(), heads.end(), head) != heads.end();
}

nlohmann::json TextSettings::toJson() const {
    return {{"text", text},           {"text_pair", textPair}, {"overflow", overflow},
            {"tokenizer", tokenizer}, {"layer", layer},        {"heads", heads},
            {"page", page},           {"method", method},      {"position", position},
            {"colormap", colormap}};
}

TextSettings TextSettings::fromJson(const nlohmann::json& json) {
    if (!json.is_object()) throw Error(kSubject, "expected a JSON object");
    TextSettings settings;
    readField(json, "text", settings.text);
    readField(json, "text_pair", settings.textPair);
    readField(json, "overflow", settings.overflow);
    readField(json, "tokenizer", settings.tokenizer);
    readField(json, "layer", settings.layer);
    readField(json, "heads", settings.heads);
    readField(json, "page", settings.page);
    readField(json, "method", settings.method);
    readField(json, "position", settings.position);
    readField(json, "colormap", settings.colormap);
    if (settings.overflow != "truncate" && settings.overflow != "refuse") {
        throw Error(kSubject,
                    "field 'overflow' must be truncate or refuse, not '" + settings.overflow + "'");
    }
    const std::vector<std::string> pages = {"heads", "matrix", "saliency", "atlas"};
    if (std::find(pages.begin(), pages.end(), settings.page) == pages.end()) {
        throw Error(kSubject, "field 'page' must be heads, matrix, saliency or atlas, not '" +
                                  settings.page + "'");
    }
    if (settings.layer < -1)
        throw Error(kSubject, "field 'layer' must be -1 (the last) or a layer index");
    for (const int head : settings.heads) {
        if (head < 0) throw Error(kSubject, "field 'heads' holds a negative head index");
    }
    if (!isColormapName(settings.colormap))
        throw Error(kSubject, "field 'colormap': unknown colormap '" + settings.colormap + "'");
    return settings;
}

void TextSettings::mapPaths(const std::function<std::string(const std::string&)>& map) {
    if (!tokenizer.empty()) tokenizer = map(tokenizer);
}

}  // namespace fovea
