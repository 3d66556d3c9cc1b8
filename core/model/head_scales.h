// HeadScales: one factor per attention head (layers x heads), the value type of head
// interventions. A factor multiplies that head's attention output before the output projection,
// as the head masks of Michel et al. ("Are Sixteen Heads Really Better than One?", NeurIPS 2019)
// do: 1 leaves the head as it is, 0 switches it off, anything else scales it.
//
//     HeadScales scales = HeadScales::identity(spec.depth, spec.numHeads);
//     scales.set(3, 5, 0.0f);                  // layer 3, head 5 off
//     model->setHeadScales(scales);            // every later run sees the change
//     nlohmann::json saved = scales.toJson();  // sessions keep it
//     model->resetHeadScales();                // back to the loaded model
//
// An empty HeadScales (no layers) means "no intervention"; models keep no scale tensor then, so
// an untouched model runs exactly as before.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <utility>
#include <vector>

namespace fovea {

class HeadScales {
  public:
    HeadScales() = default;
    // layers x heads factors, all 1.
    static HeadScales identity(int layers, int heads);

    int layers() const { return m_layers; }
    int heads() const { return m_heads; }
    bool empty() const { return m_values.empty(); }
    // True when empty or every factor is exactly 1.
    bool isIdentity() const;
    // Throws fovea::Error naming the head when out of range; a factor must be finite.
    float at(int layer, int head) const;
    void set(int layer, int head, float factor);
    // Layer-major: values()[layer * heads() + head].
    const std::vector<float>& values() const { return m_values; }
    // The heads whose factor is not 1, as (layer, head), layer-major.
    std::vector<std::pair<int, int>> changedHeads() const;

    // {"layers": L, "heads": H, "scales": [[...], ...]} (one array per layer); the empty value
    // writes {"layers": 0, "heads": 0, "scales": []}.
    nlohmann::json toJson() const;
    // Throws fovea::Error("<where>: ...") for a malformed object (wrong sizes, a non-number, a
    // non-finite factor).
    static HeadScales fromJson(const nlohmann::json& value,
                               const std::string& where = "head scales");

    // Throws fovea::Error("<subject>: ...") unless empty or sized layers x heads.
    void checkShape(int layers, int heads, const std::string& subject) const;

    bool operator==(const HeadScales& other) const;
    bool operator!=(const HeadScales& other) const { return !(*this == other); }

  private:
    int m_layers = 0, m_heads = 0;
    std::vector<float> m_values;
};

}  // namespace fovea
