#include "core/model/head_scales.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace fovea {

HeadScales HeadScales::identity(int layers, int heads) {
    if (layers <= 0 || heads <= 0) {
        throw Error("head scales", "need at least one layer and one head, got " +
                                       std::to_string(layers) + " x " + std::to_string(heads));
    }
    HeadScales scales;
    scales.m_layers = layers;
    scales.m_heads = heads;
    scales.m_values.assign(std::size_t(layers) * std::size_t(heads), 1.0f);
    return scales;
}

bool HeadScales::isIdentity() const {
    for (const float v : m_values) {
        if (v != 1.0f) return false;
    }
    return true;
}

namespace {

void checkHead(int layer, int head, int layers, int heads) {
    if (layer < 0 || layer >= layers || head < 0 || head >= heads) {
        throw Error("head scales", "head (layer " + std::to_string(layer) + ", head " +
                                       std::to_string(head) + ") is outside " +
                                       std::to_string(layers) + " layers x " +
                                       std::to_string(heads) + " heads");
    }
}

}  // namespace

float HeadScales::at(int layer, int head) const {
    checkHead(layer, head, m_layers, m_heads);
    return m_values[std::size_t(layer) * std::size_t(m_heads) + std::size_t(head)];
}

void HeadScales::set(int layer, int head, float factor) {
    checkHead(layer, head, m_layers, m_heads);
    if (!std::isfinite(factor)) {
        throw Error("head scales", "factor for layer " + std::to_string(layer) + ", head " +
                                       std::to_string(head) + " is not finite");
    }
    m_values[std::size_t(layer) * std::size_t(m_heads) + std::size_t(head)] = factor;
}

std::vector<std::pair<int, int>> HeadScales::changedHeads() const {
    std::vector<std::pair<int, int>> out;
    for (int l = 0; l < m_layers; ++l) {
        for (int h = 0; h < m_heads; ++h) {
            if (m_values[std::size_t(l) * std::size_t(m_heads) + std::size_t(h)] != 1.0f)
                out.emplace_back(l, h);
        }
    }
    return out;
}

nlohmann::json HeadScales::toJson() const {
    nlohmann::json rows = nlohmann::json::array();
    for (int l = 0; l < m_layers; ++l) {
        const auto begin = m_values.begin() + std::ptrdiff_t(l) * m_heads;
        rows.push_back(std::vector<float>(begin, begin + m_heads));
    }
    return nlohmann::json{{"layers", m_layers}, {"heads", m_heads}, {"scales", rows}};
}

HeadScales HeadScales::fromJson(const nlohmann::json& value, const std::string& where) {
    if (!value.is_object() || !value.contains("scales") || !value["scales"].is_array()) {
        throw Error(where,
                    "expected an object with a 'scales' array (one array of factors per layer)");
    }
    const nlohmann::json& rows = value["scales"];
    HeadScales scales;
    if (rows.empty()) return scales;
    const int layers = int(rows.size());
    if (!rows[0].is_array() || rows[0].empty())
        throw Error(where, "'scales' row 0 is not a non-empty array of numbers");
    const int heads = int(rows[0].size());
    scales = identity(layers, heads);
    for (int l = 0; l < layers; ++l) {
        const nlohmann::json& row = rows[std::size_t(l)];
        if (!row.is_array() || int(row.size()) != heads) {
            throw Error(where, "'scales' row " + std::to_string(l) + " does not have " +
                                   std::to_string(heads) + " factors");
        }
        for (int h = 0; h < heads; ++h) {
            const nlohmann::json& factor = row[std::size_t(h)];
            if (!factor.is_number() || !std::isfinite(factor.get<double>())) {
                throw Error(where, "factor for layer " + std::to_string(l) + ", head " +
                                       std::to_string(h) + " is not a finite number");
            }
            scales.m_values[std::size_t(l) * std::size_t(heads) + std::size_t(h)] =
                factor.get<float>();
        }
    }
    for (const char* key : {"layers", "heads"}) {
        const int expected = std::string(key) == "layers" ? layers : heads;
        if (value.contains(key) &&
            (!value[key].is_number_integer() || value[key].get<int>() != expected)) {
            throw Error(where, "'" + std::string(key) + "' does not match the 'scales' array (" +
                                   std::to_string(expected) + ")");
        }
    }
    return scales;
}

void HeadScales::checkShape(int layers, int heads, const std::string& subject) const {
    if (empty()) return;
    if (m_layers != layers || m_heads != heads) {
        throw Error(subject, "head scales are " + std::to_string(m_layers) + " layers x " +
                                 std::to_string(m_heads) + " heads, the model has " +
                                 std::to_string(layers) + " x " + std::to_string(heads));
    }
}

bool HeadScales::operator==(const HeadScales& other) const {
    if (isIdentity() && other.isIdentity()) return true;
    return m_layers == other.m_layers && m_heads == other.m_heads && m_values == other.m_values;
}

}  // namespace fovea
