// Head reports: the head atlas as a CSV table (one row per head) or a JSON document (features,
// labels with their legend, clusters, embeddings, sinks), for `fovea heads` and the GUI's export.
// Other analyses add per-head columns (importance scores) through HeadColumn without touching
// this file.
//
//     HeadAtlas atlas = buildHeadAtlas(table, options);
//     std::vector<HeadColumn> extra = {{"importance_kl", klPerHead}};   // one value per head
//     writeHeadCsv("heads.csv", atlas, extra);
//     nlohmann::json doc = headAtlasJson(atlas, extra);
//     doc["sinks"] = {sinkAnalysisJson(sinks, &highNorm)};
//     writeJsonFile("heads.json", doc);
#pragma once

#include "core/heads/attention_sinks.h"
#include "core/heads/head_atlas.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fovea {

// An extra per-head column: values in atlas.features.heads order (NaN: empty cell / null).
struct HeadColumn {
    std::string name;
    std::vector<double> values;
};

// Columns: layer, head, labels ("local|row"), cluster, cluster_name, x, y, then every feature's
// mean and <name>_std, then the extra columns. Throws fovea::Error when the file cannot be
// written or an extra column has the wrong length.
void writeHeadCsv(const std::string& path, const HeadAtlas& atlas,
                  const std::vector<HeadColumn>& extra = {});

// {"modality", "grid", "inputs", "features" (names, descriptions), "distance_bin_edges",
//  "offset_shape", "legend" (label name, colour "#rrggbb", rule), "clusters" (k, silhouette,
//  candidates, names), "embedding", "heads": [{layer, head, labels, cluster, cluster_name, xy,
//  xyz, mean {feature: value}, spread {...}, distance_profile, offset_pattern, extra columns}]}.
nlohmann::json headAtlasJson(const HeadAtlas& atlas, const std::vector<HeadColumn>& extra = {});

// {"tau", "layers", "tokens" (labels), "mass" (layers x tokens), "sinks_by_layer", "sinks":
//  [{position, label, kind, first_layer, last_layer, layer_count, peak_mass, peak_layer}],
//  "high_norm" (when given)}.
nlohmann::json sinkAnalysisJson(const SinkAnalysis& sinks, const TokenLayout& tokens,
                                const HighNormTokens* highNorm = nullptr);

}  // namespace fovea
