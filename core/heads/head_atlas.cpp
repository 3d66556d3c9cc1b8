#include "core/heads/head_atlas.h"

#include "core/util/error.h"

namespace fovea {

const char* headEmbeddingName(HeadEmbedding embedding) { return embedding == HeadEmbedding::Tsne ? "tsne" : "pca"; }

HeadEmbedding headEmbeddingFromName(const std::string& name) {
    if (name == "pca") return HeadEmbedding::Pca;
    if (name == "tsne" || name == "t-sne") return HeadEmbedding::Tsne;
    throw Error("unknown embedding '" + name + "' (pca or tsne)");
}

HeadAtlas buildHeadAtlas(HeadFeatureTable features, const HeadAtlasOptions& options) {
    HeadAtlas atlas;
    atlas.features = std::move(features);
    atlas.labels = classifyHeads(atlas.features, options.thresholds);
    atlas.descriptors = headDescriptors(atlas.features);
    atlas.clusters = clusterHeads(atlas.descriptors, options.clusters);
    atlas.clusterNames = nameClusters(atlas.clusters.assignment, atlas.clusters.k, atlas.labels);
    const PcaResult pca = principalComponents(atlas.descriptors, 3);
    atlas.embedding3d = pca.coordinates;
    atlas.pcaVariances = pca.variances;
    atlas.embedding = options.embedding;
    const std::size_t n = atlas.features.heads.size();
    if (options.embedding == HeadEmbedding::Tsne) {
        TsneOptions tsne = options.tsne;
        tsne.dimensions = 2;
        atlas.embedding2d = tsneEmbedding(atlas.descriptors, tsne);
    } else {
        atlas.embedding2d.assign(n * 2, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            atlas.embedding2d[2 * i] = pca.coordinates[3 * i];
            atlas.embedding2d[2 * i + 1] = pca.coordinates[3 * i + 1];
        }
    }
    return atlas;
}

}  // namespace fovea
