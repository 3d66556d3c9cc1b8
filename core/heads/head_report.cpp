#include "core/heads/head_report.h"

#include "core/util/error.h"

#include <cmath>
#include <cstdio>
#include <fstream>

namespace fovea {

namespace {

nlohmann::json number(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string csvNumber(double v) {
    if (!std::isfinite(v)) return "";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
}

std::string hexColour(RgbColour c) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", c.red, c.green, c.blue);
    return buffer;
}

void checkExtra(const HeadAtlas& atlas, const std::vector<HeadColumn>& extra) {
    for (const HeadColumn& column : extra) {
        if (column.values.size() != atlas.features.heads.size()) {
            throw Error("head column '" + column.name + "' has " +
                        std::to_string(column.values.size()) + " values for " +
                        std::to_string(atlas.features.heads.size()) + " heads");
        }
    }
}

nlohmann::json floats(const std::vector<float>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (float x : v) out.push_back(number(x));
    return out;
}

}  // namespace

void writeHeadCsv(const std::string& path, const HeadAtlas& atlas,
                  const std::vector<HeadColumn>& extra) {
    checkExtra(atlas, extra);
    std::ofstream out(path);
    if (!out) throw Error(path, "cannot write the head table");
    out << "layer,head,labels,cluster,cluster_name,x,y";
    for (HeadFeature f : allHeadFeatures())
        out << ',' << headFeatureName(f) << ',' << headFeatureName(f) << "_std";
    for (const HeadColumn& column : extra) out << ',' << column.name;
    out << '\n';
    const auto& heads = atlas.features.heads;
    for (std::size_t i = 0; i < heads.size(); ++i) {
        const int cluster = i < atlas.clusters.assignment.size() ? atlas.clusters.assignment[i] : 0;
        out << heads[i].layer << ',' << heads[i].head << ',' << joinHeadLabels(atlas.labels[i])
            << ',' << cluster << ','
            << (std::size_t(cluster) < atlas.clusterNames.size()
                    ? atlas.clusterNames[std::size_t(cluster)]
                    : "")
            << ',' << csvNumber(atlas.embedding2d[2 * i]) << ','
            << csvNumber(atlas.embedding2d[2 * i + 1]);
        for (HeadFeature f : allHeadFeatures())
            out << ',' << csvNumber(heads[i].mean[f]) << ',' << csvNumber(heads[i].spread[f]);
        for (const HeadColumn& column : extra) out << ',' << csvNumber(column.values[i]);
        out << '\n';
    }
    if (!out) throw Error(path, "writing the head table failed");
}

nlohmann::json headAtlasJson(const HeadAtlas& atlas, const std::vector<HeadColumn>& extra) {
    checkExtra(atlas, extra);
    const HeadFeatureTable& table = atlas.features;
    nlohmann::json doc;
    doc["modality"] = table.modality == Modality::Text ? "text" : "image";
    doc["grid"] =
        table.grid ? nlohmann::json{table.gridRows, table.gridCols} : nlohmann::json(nullptr);
    doc["tokens"] = table.tokens;
    doc["inputs"] = table.inputs;
    nlohmann::json features = nlohmann::json::array();
    for (HeadFeature f : allHeadFeatures())
        features.push_back(
            {{"name", headFeatureName(f)}, {"description", headFeatureDescription(f)}});
    doc["features"] = features;
    doc["distance_bin_edges"] = floats(table.distanceBinEdges);
    doc["distance_unit"] = table.grid ? "pixels" : "tokens";
    doc["offset_shape"] = {table.offsetRows, table.offsetCols};
    doc["offset_radius"] = table.offsetRadius;
    nlohmann::json legend = nlohmann::json::array();
    for (HeadLabel label : allHeadLabels())
        legend.push_back({{"label", headLabelName(label)},
                          {"colour", hexColour(headLabelColour(label))},
                          {"rule", headLabelRule(label)}});
    doc["legend"] = legend;
    nlohmann::json candidates = nlohmann::json::array();
    for (std::size_t i = 0; i < atlas.clusters.candidateK.size(); ++i)
        candidates.push_back({{"k", atlas.clusters.candidateK[i]},
                              {"silhouette", number(atlas.clusters.candidateScore[i])}});
    doc["clusters"] = {{"k", atlas.clusters.k},
                       {"silhouette", number(atlas.clusters.silhouette)},
                       {"candidates", candidates},
                       {"names", atlas.clusterNames}};
    doc["embedding"] = headEmbeddingName(atlas.embedding);
    nlohmann::json pcaVariances = nlohmann::json::array();
    for (double v : atlas.pcaVariances) pcaVariances.push_back(number(v));
    doc["pca_variances"] = pcaVariances;
    nlohmann::json heads = nlohmann::json::array();
    for (std::size_t i = 0; i < table.heads.size(); ++i) {
        const HeadSummary& h = table.heads[i];
        nlohmann::json entry;
        entry["layer"] = h.layer;
        entry["head"] = h.head;
        nlohmann::json labels = nlohmann::json::array();
        for (HeadLabel label : atlas.labels[i]) labels.push_back(headLabelName(label));
        entry["labels"] = labels;
        const int cluster = i < atlas.clusters.assignment.size() ? atlas.clusters.assignment[i] : 0;
        entry["cluster"] = cluster;
        entry["cluster_name"] = std::size_t(cluster) < atlas.clusterNames.size()
                                    ? atlas.clusterNames[std::size_t(cluster)]
                                    : "";
        entry["xy"] = {number(atlas.embedding2d[2 * i]), number(atlas.embedding2d[2 * i + 1])};
        if (atlas.embedding3d.size() >= 3 * (i + 1))
            entry["xyz"] = {number(atlas.embedding3d[3 * i]), number(atlas.embedding3d[3 * i + 1]),
                            number(atlas.embedding3d[3 * i + 2])};
        nlohmann::json mean, spread;
        for (HeadFeature f : allHeadFeatures()) {
            mean[headFeatureName(f)] = number(h.mean[f]);
            spread[headFeatureName(f)] = number(h.spread[f]);
        }
        entry["mean"] = mean;
        entry["spread"] = spread;
        entry["distance_profile"] = floats(h.mean.distanceProfile);
        entry["offset_pattern"] = floats(h.mean.offsetPattern);
        for (const HeadColumn& column : extra) entry[column.name] = number(column.values[i]);
        heads.push_back(entry);
    }
    doc["heads"] = heads;
    return doc;
}

nlohmann::json sinkAnalysisJson(const SinkAnalysis& sinks, const TokenLayout& tokens,
                                const HighNormTokens* highNorm) {
    nlohmann::json doc;
    doc["tau"] = sinks.tau;
    doc["layers"] = sinks.layers;
    nlohmann::json labels = nlohmann::json::array();
    for (int t = 0; t < tokens.size(); ++t) labels.push_back(tokens[t].label());
    doc["tokens"] = labels;
    nlohmann::json mass = nlohmann::json::array();
    for (std::size_t l = 0; l < sinks.layers.size(); ++l) {
        nlohmann::json row = nlohmann::json::array();
        for (int t = 0; t < sinks.tokens; ++t)
            row.push_back(std::round(double(sinks.mass(int(l), t)) * 1e5) / 1e5);
        mass.push_back(row);
    }
    doc["mass"] = mass;
    doc["sinks_by_layer"] = sinks.sinksByLayer;
    nlohmann::json list = nlohmann::json::array();
    for (const SinkToken& s : sinks.sinks) {
        list.push_back({{"position", s.position},
                        {"label", s.label},
                        {"kind", sinkKindName(s.kind)},
                        {"first_layer", s.firstLayer},
                        {"last_layer", s.lastLayer},
                        {"layer_count", s.layerCount},
                        {"peak_mass", s.peakMass},
                        {"peak_layer", s.peakLayer}});
    }
    doc["sinks"] = list;
    if (highNorm != nullptr) {
        nlohmann::json norms = nlohmann::json::array();
        for (std::size_t l = 0; l < highNorm->layers.size(); ++l) {
            nlohmann::json positions = nlohmann::json::array();
            for (std::size_t i = 0; i < highNorm->positions[l].size(); ++i) {
                const int p = highNorm->positions[l][i];
                positions.push_back({{"position", p},
                                     {"label", p < tokens.size() ? tokens[p].label() : ""},
                                     {"ratio", highNorm->ratios[l][i]}});
            }
            norms.push_back({{"layer", highNorm->layers[l]},
                             {"median", highNorm->medians[l]},
                             {"tokens", positions}});
        }
        doc["high_norm"] = {
            {"factor", highNorm->factor}, {"source", "value-vector norms"}, {"layers", norms}};
    }
    return doc;
}

}  // namespace fovea
