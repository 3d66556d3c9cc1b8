// HeadAtlas: everything the head views need, computed in one call from a feature table --
// labels, descriptors, clusters with names, the 2D embedding (PCA or t-SNE) and a 3D PCA
// embedding for the VTK view. Torch-free and fast enough to rerun when the user changes k.
//
//     HeadFeatureTable table = accumulator.table();
//     HeadAtlasOptions options;
//     options.embedding = HeadEmbedding::Tsne;
//     options.clusters.k = 4;                       // 0: chosen by silhouette
//     HeadAtlas atlas = buildHeadAtlas(table, options);
//     for (std::size_t i = 0; i < atlas.features.heads.size(); ++i)
//         plot(atlas.embedding2d[2 * i], atlas.embedding2d[2 * i + 1],
//              atlas.clusterNames[atlas.clusters.assignment[i]]);
#pragma once

#include "core/heads/head_clusters.h"
#include "core/heads/head_features.h"
#include "core/heads/head_taxonomy.h"

#include <string>
#include <vector>

namespace fovea {

enum class HeadEmbedding { Pca, Tsne };
const char* headEmbeddingName(HeadEmbedding embedding);  // "pca", "tsne"
HeadEmbedding headEmbeddingFromName(const std::string& name);  // throws fovea::Error

struct HeadAtlasOptions {
    HeadTaxonomyThresholds thresholds;
    ClusterOptions clusters;
    HeadEmbedding embedding = HeadEmbedding::Pca;
    TsneOptions tsne;
};

struct HeadAtlas {
    HeadFeatureTable features;
    std::vector<std::vector<HeadLabel>> labels;  // per head (features.heads order)
    DescriptorMatrix descriptors;
    HeadClustering clusters;                     // k = 1 and silhouette 0 when there are < 3 heads
    std::vector<std::string> clusterNames;       // per cluster
    HeadEmbedding embedding = HeadEmbedding::Pca;
    std::vector<double> embedding2d;             // heads x 2
    std::vector<double> embedding3d;             // heads x 3 (PCA)
    std::vector<double> pcaVariances;            // of the 3D PCA, descending
};

HeadAtlas buildHeadAtlas(HeadFeatureTable features, const HeadAtlasOptions& options = {});

}  // namespace fovea
