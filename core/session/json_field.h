// Reading one optional field of a session's JSON: absent or null keeps the default; a value of
// the wrong type is a one-line fovea::Error naming the subject and the field.
#pragma once

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fovea {

template <typename T>
void readJsonField(const nlohmann::json& json, const char* name, T& value,
                   const std::string& subject) {
    const auto found = json.find(name);
    if (found == json.end() || found->is_null()) return;
    try {
        value = found->get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(subject,
                    std::string("field '") + name + "' has the wrong type: " + found->dump());
    }
}

}  // namespace fovea
