// Head clusters: a descriptor per head (its distance profile, its average relative-offset pattern
// and a few scale-free features), standardised; 2D / 3D embeddings (PCA, exact t-SNE); k-means++
// and Ward clustering with k chosen by the silhouette; clusters named by their dominant labels.
// Small, dependency-free numerics sized for <= a few thousand heads.
//
//     HeadFeatureTable table = features.table();
//     std::vector<std::vector<HeadLabel>> labels = classifyHeads(table);
//     DescriptorMatrix descriptors = headDescriptors(table);        // heads x columns, z-scored
//     ClusterOptions clusterOptions;  // k = 0: the best silhouette in 2..8
//     HeadClustering clusters = clusterHeads(descriptors, clusterOptions);
//     std::vector<std::string> names = nameClusters(clusters.assignment, clusters.k, labels);
//     PcaResult pca = principalComponents(descriptors, 3);         // 3D for the VTK view
//     std::vector<double> xy = tsneEmbedding(descriptors, TsneOptions{});  // heads x 2
//
// Or all at once: buildHeadAtlas (head_atlas.h).
#pragma once

#include "core/heads/head_features.h"
#include "core/heads/head_taxonomy.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

// A dense row-major matrix: rows are heads, columns are descriptor entries.
struct DescriptorMatrix {
    int rows = 0, cols = 0;
    std::vector<double> values;
    std::vector<std::string> columnNames;  // "profile_3", "offset_-1_2", "entropy_norm", ...

    double at(int row, int col) const {
        return values[std::size_t(row) * std::size_t(cols) + std::size_t(col)];
    }
    double& at(int row, int col) {
        return values[std::size_t(row) * std::size_t(cols) + std::size_t(col)];
    }
};

// The descriptor of every head in table.heads order: the distance profile and the offset pattern
// (each scaled to sum 1, so the shape counts, not the level), then NormalizedEntropy,
// DistanceRatio, SelfShare, FirstTokenShare, SinkShare and SparsityFraction. Every column is
// z-scored across heads (a constant column becomes 0; NaN entries become the column mean, 0),
// then each of the three blocks (profile, pattern, scalars) is scaled by 1/sqrt(its columns) so
// the 49-cell pattern does not outvote the six scalars.
DescriptorMatrix headDescriptors(const HeadFeatureTable& table);
// Z-scores the columns of `data` in place (constant columns become 0).
void standardizeColumns(DescriptorMatrix& data);

struct PcaResult {
    int components = 0;
    std::vector<double> coordinates;  // rows x components, row-major (centred data on the axes)
    std::vector<double> variances;    // eigenvalues of the covariance, descending
    std::vector<double> axes;         // components x cols, unit vectors
    double totalVariance = 0.0;       // trace of the covariance
};
// Principal components by cyclic Jacobi on the cols x cols covariance (rows x rows Gram matrix
// when there are more columns than rows). Axes' signs are fixed so their largest entry is positive.
PcaResult principalComponents(const DescriptorMatrix& data, int components);

// Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic Jacobi rotations:
// eigenvalues descending, eigenvectors as rows of `vectors` (n x n).
void symmetricEigen(std::vector<double> matrix, int n, std::vector<double>& values,
                    std::vector<double>& vectors);

struct TsneOptions {
    int dimensions = 2;
    double perplexity = 30.0;  // lowered to (rows - 1) / 3 for small sets
    int iterations = 1000;
    int exaggerationIterations = 250;  // early exaggeration (van der Maaten 2014)
    double exaggeration = 12.0;
    double learningRate = 0.0;  // 0: rows / exaggeration, at least 1 (Belkina et al. 2019)
    std::uint64_t seed = 1;
};
// Exact O(n^2) t-SNE (van der Maaten & Hinton 2008): Gaussian affinities with each point's
// bandwidth found by bisection on the perplexity, symmetrised; Student-t map; gradient descent
// with momentum (0.5, then 0.8) and gains. Deterministic for a seed. Returns rows x dimensions.
std::vector<double> tsneEmbedding(const DescriptorMatrix& data, const TsneOptions& options = {});

enum class ClusterMethod { KMeans, Ward };
const char* clusterMethodName(ClusterMethod method);  // "kmeans", "ward"

struct ClusterOptions {
    ClusterMethod method = ClusterMethod::KMeans;
    int k = 0;  // 0: the k in minK..maxK with the best silhouette (clamped to rows - 1)
    int minK = 2, maxK = 8;
    int restarts = 8;  // k-means++ restarts; the lowest inertia wins
    std::uint64_t seed = 1;
};

struct HeadClustering {
    int k = 0;
    std::vector<int> assignment;         // cluster 0..k-1 per row
    double silhouette = 0.0;             // mean silhouette of the chosen clustering
    std::vector<int> candidateK;         // the k tried ...
    std::vector<double> candidateScore;  // ... and their silhouettes
};
// Fewer than 3 rows: one cluster (k = 1, silhouette 0).
HeadClustering clusterHeads(const DescriptorMatrix& data, const ClusterOptions& options = {});

// k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), Lloyd iterations; best of restarts.
std::vector<int> kMeans(const DescriptorMatrix& data, int k, int restarts = 8,
                        std::uint64_t seed = 1);
// Agglomerative clustering with Ward's criterion (Lance-Williams update), cut at k clusters.
std::vector<int> wardClustering(const DescriptorMatrix& data, int k);
// Mean silhouette (Rousseeuw 1987) with Euclidean distances; points alone in their cluster score 0.
double silhouetteScore(const DescriptorMatrix& data, const std::vector<int>& assignment);

// A name per cluster from its members' labels: every label held by at least half the members,
// most frequent first, joined with "+" ("local+row"); "mixed" when none is; "unlabelled" when most
// members have no label at all. A name that an earlier cluster already has gets " 2", " 3", ...
std::vector<std::string> nameClusters(const std::vector<int>& assignment, int k,
                                      const std::vector<std::vector<HeadLabel>>& labels);

}  // namespace fovea
