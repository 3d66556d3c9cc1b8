#include "core/segment/segmenter.h"

#include "core/explain/attention_maps.h"
#include "core/segment/spectral.h"
#include "core/util/error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace fovea {

SegmentInputs SegmentInputs::fromAttention(const AttentionStack& stack, int layer) {
    if (stack.layers.empty()) throw Error("segmentation: no attention was captured");
    const AttentionLayer& captured = layer < 0 ? stack.layers.back() : stack.layer(layer);
    const TokenLayout& tokens = stack.tokens;
    SegmentInputs inputs;
    inputs.gridRows = tokens.gridRows();
    inputs.gridCols = tokens.gridCols();
    const std::vector<int> patches = tokens.patchIndices();
    if (captured.hasKeys()) {
        const int width = captured.keyWidth();
        inputs.keys.create(int(patches.size()), width);
        for (std::size_t p = 0; p < patches.size(); ++p) {
            const float* source = captured.keys.data() + std::size_t(patches[p]) * std::size_t(width);
            std::copy_n(source, width, inputs.keys.ptr<float>(int(p)));
        }
    }
    const int cls = tokens.firstOf(TokenKind::Cls);
    for (std::size_t slot = 0; slot < captured.heads.size(); ++slot) {
        const std::vector<float> matrix = captured.matrix(int(slot));
        const int n = captured.tokens;
        std::vector<float> row(static_cast<std::size_t>(n), 0.0f);
        if (cls >= 0) {
            std::copy_n(matrix.begin() + std::ptrdiff_t(std::size_t(cls) * n), n, row.begin());
        } else {
            // No CLS token (average pooling): what the sequence attends to on average.
            for (int q = 0; q < n; ++q) {
                for (int k = 0; k < n; ++k) row[std::size_t(k)] += matrix[std::size_t(q) * n + k] / float(n);
            }
        }
        inputs.headAttention.push_back(cv::Mat1f(patchGridFromRow(tokens, row.data())));
    }
    return inputs;
}

// ---- building blocks ----

cv::Mat1i resizeLabels(const cv::Mat1i& labels, cv::Size size) {
    cv::Mat1i out(size);
    for (int y = 0; y < size.height; ++y) {
        const int sy = std::min(labels.rows - 1, int(std::floor((y + 0.5) * labels.rows / double(size.height))));
        for (int x = 0; x < size.width; ++x) {
            const int sx = std::min(labels.cols - 1, int(std::floor((x + 0.5) * labels.cols / double(size.width))));
            out(y, x) = labels(sy, sx);
        }
    }
    return out;
}

cv::Mat1b componentAt(const cv::Mat1b& mask, cv::Point seed) {
    cv::Mat1b out(mask.size(), uchar(0));
    if (!mask(seed)) return out;
    cv::Mat components;
    cv::connectedComponents(mask, components, 4, CV_32S);
    const int id = components.at<int>(seed);
    out.setTo(255, components == id);
    return out;
}

std::vector<cv::Rect> segmentBoxes(const cv::Mat1i& labels, int count) {
    std::vector<cv::Rect> boxes;
    for (int label = 1; label <= count; ++label) {
        const cv::Mat1b mask = labels == label;
        cv::Mat components, stats, centroids;
        const int found = cv::connectedComponentsWithStats(mask, components, stats, centroids, 4, CV_32S);
        int best = -1, bestArea = 0;
        for (int c = 1; c < found; ++c) {
            if (stats.at<int>(c, cv::CC_STAT_AREA) > bestArea) {
                bestArea = stats.at<int>(c, cv::CC_STAT_AREA);
                best = c;
            }
        }
        boxes.push_back(best < 0 ? cv::Rect() : cv::Rect(stats.at<int>(best, cv::CC_STAT_LEFT), stats.at<int>(best, cv::CC_STAT_TOP),
                                                         stats.at<int>(best, cv::CC_STAT_WIDTH), stats.at<int>(best, cv::CC_STAT_HEIGHT)));
    }
    return boxes;
}

cv::Mat1b massThreshold(const cv::Mat1f& attention, double mass) {
    const int n = int(attention.total());
    std::vector<double> values(static_cast<std::size_t>(n));
    double total = 0.0;
    for (int i = 0; i < n; ++i) total += values[std::size_t(i)] = std::max(0.0f, attention(i));
    cv::Mat1b mask(attention.size(), uchar(0));
    if (!(total > 0.0)) return mask;
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[std::size_t(a)] < values[std::size_t(b)]; });
    double cumulative = 0.0;
    for (int i : order) {
        cumulative += values[std::size_t(i)] / total;
        if (cumulative > 1.0 - mass) mask(i) = 255;
    }
    return mask;
}

double otsuThreshold(const cv::Mat1f& normalized) {
    std::vector<double> histogram(256, 0.0);
    for (float v : normalized) histogram[std::size_t(std::clamp(int(v * 255.0f + 0.5f), 0, 255))] += 1.0;
    const double count = double(normalized.total());
    double sumAll = 0.0;
    for (int i = 0; i < 256; ++i) sumAll += i * histogram[std::size_t(i)];
    double below = 0.0, sumBelow = 0.0, best = -1.0;
    int bestLevel = 127;
    for (int t = 0; t < 256; ++t) {
        below += histogram[std::size_t(t)];
        sumBelow += t * histogram[std::size_t(t)];
        const double above = count - below;
        if (below == 0.0 || above == 0.0) continue;
        const double meanBelow = sumBelow / below, meanAbove = (sumAll - sumBelow) / above;
        const double between = below * above * (meanBelow - meanAbove) * (meanBelow - meanAbove);
        if (between > best) {
            best = between;
            bestLevel = t;
        }
    }
    return (bestLevel + 0.5) / 255.0;  // strictly above the last level of the lower class
}

cv::Vec3b segmentColor(int label) {
    // Well-separated hues (BGR), then golden-angle hues for many labels.
    static const cv::Vec3b palette[] = {{40, 40, 230}, {60, 200, 60}, {230, 120, 30}, {20, 200, 230}, {200, 60, 200},
                                        {200, 200, 40}, {30, 120, 250}, {150, 80, 40}};
    if (label >= 1 && label <= 8) return palette[label - 1];
    cv::Mat3b hsv(1, 1, cv::Vec3b(uchar((label * 137 / 2) % 180), 200, 230)), bgr;
    cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
    return bgr(0, 0);
}

cv::Mat segmentationOverlay(const cv::Mat& bgr, const cv::Mat1i& labels, double opacity) {
    if (bgr.size() != labels.size()) throw Error("segmentation overlay: labels and image differ in size");
    cv::Mat3b out;
    if (bgr.channels() == 1) {
        cv::cvtColor(bgr, out, cv::COLOR_GRAY2BGR);
    } else {
        out = bgr.clone();
    }
    double high = 0.0;
    cv::minMaxLoc(labels, nullptr, &high);
    for (int label = 1; label <= int(high); ++label) {
        const cv::Mat1b mask = labels == label;
        if (cv::countNonZero(mask) == 0) continue;
        const cv::Vec3b color = segmentColor(label);
        cv::Mat3b fill(out.size(), color);
        cv::Mat3b blended;
        cv::addWeighted(out, 1.0 - opacity, fill, opacity, 0.0, blended);
        blended.copyTo(out, mask);
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
        cv::drawContours(out, contours, -1, cv::Scalar(color[0], color[1], color[2]), 1, cv::LINE_8);
    }
    return out;
}

cv::Mat labelMaskImage(const cv::Mat1i& labels) {
    double high = 0.0;
    cv::minMaxLoc(labels, nullptr, &high);
    cv::Mat out;
    labels.convertTo(out, high > 255 ? CV_16U : CV_8U);
    return out;
}

namespace {

Segmentation fromMask(const cv::Mat1b& mask, const cv::Mat1f& score) {
    Segmentation out;
    out.labels = cv::Mat1i(mask.size(), 0);
    out.labels.setTo(1, mask);
    out.count = 1;
    out.boxes = segmentBoxes(out.labels, 1);
    out.score = score;
    return out;
}

cv::Mat1f toGrid(const std::vector<double>& values, int rows, int cols) {
    cv::Mat1f grid(rows, cols);
    for (int i = 0; i < rows * cols; ++i) grid(i) = float(values[std::size_t(i)]);
    return grid;
}

void requireKeys(const SegmentInputs& inputs, const std::string& method) {
    if (inputs.keys.empty()) throw Error("method " + method, "needs the patch keys (capture with keys = true)");
    if (inputs.keys.rows != inputs.gridRows * inputs.gridCols) {
        throw Error("method " + method, "has " + std::to_string(inputs.keys.rows) + " keys for a " + std::to_string(inputs.gridRows) +
                                            "x" + std::to_string(inputs.gridCols) + " patch grid");
    }
}

// The patches on the grid border, as a mask over row-major patch indices.
std::vector<bool> borderPatches(int rows, int cols) {
    std::vector<bool> border(std::size_t(rows) * cols, false);
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) border[std::size_t(r) * cols + c] = r == 0 || c == 0 || r == rows - 1 || c == cols - 1;
    }
    return border;
}

// Cluster ids 0..k-1 per patch -> labels: clusters numbered by first appearance (row-major),
// and with `background` the cluster touching the border most (ties: the larger) becomes 0.
Segmentation labelsFromClusters(const std::vector<int>& cluster, int k, int rows, int cols, bool background) {
    const std::vector<bool> border = borderPatches(rows, cols);
    std::vector<int> borderCount(std::size_t(k), 0), size(std::size_t(k), 0), order;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
        const int c = cluster[i];
        if (std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);
        size[std::size_t(c)]++;
        if (border[i]) borderCount[std::size_t(c)]++;
    }
    int backgroundCluster = -1;
    if (background) {
        backgroundCluster = order.front();
        for (int c : order) {
            const auto score = [&](int id) { return std::make_pair(borderCount[std::size_t(id)], size[std::size_t(id)]); };
            if (score(c) > score(backgroundCluster)) backgroundCluster = c;
        }
    }
    std::vector<int> relabel(std::size_t(k), 0);
    int next = 1;
    for (int c : order) relabel[std::size_t(c)] = c == backgroundCluster ? 0 : next++;
    Segmentation out;
    out.labels = cv::Mat1i(rows, cols);
    for (std::size_t i = 0; i < cluster.size(); ++i) out.labels(int(i)) = relabel[std::size_t(cluster[i])];
    out.count = next - 1;
    out.boxes = segmentBoxes(out.labels, out.count);
    return out;
}

cv::Mat1f normalizedRows(const cv::Mat1f& keys) {
    cv::Mat1f out = keys.clone();
    for (int r = 0; r < out.rows; ++r) {
        const double length = cv::norm(out.row(r));
        if (length > 0.0) out.row(r) /= length;
    }
    return out;
}

// ---- the methods ----

class DinoMass final : public Segmenter {
public:
    std::string name() const override { return "dino"; }
    std::string title() const override { return "DINO attention mass threshold"; }
    std::string citation() const override {
        return "Caron et al., Emerging Properties in Self-Supervised Vision Transformers, ICCV 2021";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"th", 0.6, 0.01, 1.0, false, "fraction of the CLS attention mass the mask keeps"},
                {"fusion", 0, 0, 2, true, "mean: threshold the head mean; union: of per-head masks; head: one head",
                 {"mean", "union", "head"}},
                {"head", 0, 0, 1023, true, "the head for fusion=head"}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Attention; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        if (inputs.headAttention.empty()) throw Error("method dino", "needs the CLS attention of at least one head");
        const double mass = params.at("th");
        const int fusion = int(params.at("fusion"));
        cv::Mat1f fused(inputs.headAttention.front().size(), 0.0f);
        for (const cv::Mat1f& head : inputs.headAttention) fused += head / double(inputs.headAttention.size());
        if (fusion == 0) return fromMask(massThreshold(fused, mass), fused);
        if (fusion == 2) {
            const int head = int(params.at("head"));
            if (head >= int(inputs.headAttention.size())) {
                throw Error("method dino", "head " + std::to_string(head) + " was not captured (" +
                                               std::to_string(inputs.headAttention.size()) + " heads)");
            }
            return fromMask(massThreshold(inputs.headAttention[std::size_t(head)], mass), inputs.headAttention[std::size_t(head)]);
        }
        cv::Mat1b mask(fused.size(), uchar(0));
        for (const cv::Mat1f& head : inputs.headAttention) mask |= massThreshold(head, mass);
        return fromMask(mask, fused);
    }
};

class Lost final : public Segmenter {
public:
    std::string name() const override { return "lost"; }
    std::string title() const override { return "LOST seed expansion"; }
    std::string citation() const override {
        return "Siméoni et al., Localizing Objects with Self-Supervised Transformers and no Labels, BMVC 2021";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"k", 100, 1, 100000, true, "lowest-degree patches the seed is expanded with"}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Keys; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        requireKeys(inputs, name());
        const int n = inputs.keys.rows;
        cv::Mat1d keys;
        inputs.keys.convertTo(keys, CV_64F);
        const cv::Mat1d similarity = keys * keys.t();
        std::vector<int> degree(static_cast<std::size_t>(n), 0);
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) degree[std::size_t(i)] += similarity(i, j) > 0.0 ? 1 : 0;
        }
        std::vector<int> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return degree[std::size_t(a)] < degree[std::size_t(b)]; });
        const int seed = order.front();
        const int k = std::min(n, int(params.at("k")));
        std::vector<double> summed(static_cast<std::size_t>(n), 0.0);
        for (int p = 0; p < k; ++p) {
            const int patch = order[std::size_t(p)];
            if (!(similarity(seed, patch) > 0.0)) continue;
            for (int j = 0; j < n; ++j) summed[std::size_t(j)] += similarity(patch, j);
        }
        const cv::Mat1f score = toGrid(summed, inputs.gridRows, inputs.gridCols);
        const cv::Point seedPoint(seed % inputs.gridCols, seed / inputs.gridCols);
        return fromMask(componentAt(score > 0.0f, seedPoint), score);
    }
};

class TokenCut final : public Segmenter {
public:
    std::string name() const override { return "tokencut"; }
    std::string title() const override { return "TokenCut normalized cut"; }
    std::string citation() const override {
        return "Wang et al., Self-Supervised Transformers for Unsupervised Object Discovery using Normalized Cut, CVPR 2022";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"tau", 0.2, -1.0, 1.0, false, "cosine similarity above which two patches are connected"},
                {"solver", 0, 0, 2, true, "eigen-solver", {"auto", "dense", "lanczos"}}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Keys; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        requireKeys(inputs, name());
        cv::Mat1d keys;
        normalizedRows(inputs.keys).convertTo(keys, CV_64F);
        cv::Mat1d affinity = keys * keys.t();
        const double tau = params.at("tau");
        for (double& a : affinity) a = a > tau ? 1.0 : 1e-5;
        const SpectralPairs pairs = smallestGeneralizedEigenpairs(affinity, 2, EigenSolver(int(params.at("solver"))));
        std::vector<double> x(pairs.vectors[1], pairs.vectors[1] + affinity.cols);
        const double mean = std::accumulate(x.begin(), x.end(), 0.0) / double(x.size());
        int seed = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (std::fabs(x[i]) > std::fabs(x[std::size_t(seed)])) seed = int(i);
        }
        const bool flip = !(x[std::size_t(seed)] > mean);
        cv::Mat1b partition(inputs.gridRows, inputs.gridCols);
        for (std::size_t i = 0; i < x.size(); ++i) {
            partition(int(i)) = (x[i] > mean) != flip ? 255 : 0;
            if (flip) x[i] = -x[i];
        }
        const cv::Point seedPoint(seed % inputs.gridCols, seed / inputs.gridCols);
        return fromMask(componentAt(partition, seedPoint), toGrid(x, inputs.gridRows, inputs.gridCols));
    }
};

class DeepSpectral final : public Segmenter {
public:
    std::string name() const override { return "spectral"; }
    std::string title() const override { return "Deep spectral methods"; }
    std::string citation() const override {
        return "Melas-Kyriazi et al., Deep Spectral Methods: A Surprisingly Strong Baseline for Unsupervised Semantic "
               "Segmentation and Localization, CVPR 2022";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"regions", 2, 2, 16, true, "segments including the background (2: the first non-trivial eigenvector's sign)"},
                {"solver", 0, 0, 2, true, "eigen-solver", {"auto", "dense", "lanczos"}}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Keys; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        requireKeys(inputs, name());
        cv::Mat1d keys;
        inputs.keys.convertTo(keys, CV_64F);
        cv::Mat1d affinity = keys * keys.t();
        double largest = 0.0;
        for (double& a : affinity) largest = std::max(largest, a = std::max(a, 0.0));
        if (largest > 0.0) affinity /= largest;
        const int regions = int(params.at("regions"));
        const int n = affinity.rows;
        const SpectralPairs pairs = smallestGeneralizedEigenpairs(affinity, std::min(n, regions),
                                                                  EigenSolver(int(params.at("solver"))));
        std::vector<int> cluster(static_cast<std::size_t>(n), 0);
        std::vector<double> first(pairs.vectors[1], pairs.vectors[1] + n);
        if (regions == 2) {
            for (int i = 0; i < n; ++i) cluster[std::size_t(i)] = first[std::size_t(i)] > 0.0 ? 1 : 0;
        } else {
            // k-means on the regions - 1 non-trivial eigenvectors (one row per patch): with the
            // constant one, k eigenvectors for k clusters as in normalised spectral clustering.
            const int used = pairs.vectors.rows - 1;
            cv::Mat1f points(n, used);
            for (int e = 0; e < used; ++e) {
                for (int i = 0; i < n; ++i) points(i, e) = float(pairs.vectors(e + 1, i));
            }
            cv::Mat clusterLabels, centers;
            cv::theRNG().state = 0x5eed;
            cv::kmeans(points, std::min(regions, n), clusterLabels, cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 100, 1e-6), 4,
                       cv::KMEANS_PP_CENTERS, centers);
            for (int i = 0; i < n; ++i) cluster[std::size_t(i)] = clusterLabels.at<int>(i);
        }
        Segmentation out = labelsFromClusters(cluster, std::max(2, regions), inputs.gridRows, inputs.gridCols, true);
        // The score: the first non-trivial eigenvector, positive on the foreground.
        double foreground = 0.0;
        for (int i = 0; i < n; ++i) foreground += out.labels(i) > 0 ? first[std::size_t(i)] : -first[std::size_t(i)];
        if (foreground < 0.0) {
            for (double& v : first) v = -v;
        }
        out.score = toGrid(first, inputs.gridRows, inputs.gridCols);
        return out;
    }
};

cv::Mat1f minMaxNormalized(const cv::Mat1f& map) {
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(map, &low, &high);
    cv::Mat1f out(map.size(), 0.0f);
    if (high > low) out = (map - low) / (high - low);
    return out;
}

double maskIoUAt(const cv::Mat1b& predicted, const cv::Mat1b& truth) {
    const double intersection = cv::countNonZero(predicted & truth);
    const double uni = cv::countNonZero(predicted | truth);
    return uni > 0.0 ? intersection / uni : 1.0;
}

class HeatmapThreshold final : public Segmenter {
public:
    std::string name() const override { return "heatmap"; }
    std::string title() const override { return "Heatmap threshold"; }
    std::string citation() const override {
        return "Otsu, A Threshold Selection Method from Gray-Level Histograms, IEEE SMC 1979 (fixed / Otsu / best-IoU)";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"mode", 1, 0, 2, true, "fixed: th; otsu; best-iou: the threshold with the best IoU against ground truth",
                 {"fixed", "otsu", "best-iou"}},
                {"th", 0.5, 0.0, 1.0, false, "fixed threshold on the map scaled to [0, 1]"}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Map; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        if (inputs.map.empty()) throw Error("method heatmap", "needs an explanation map");
        const cv::Mat1f normalized = minMaxNormalized(inputs.map);
        const int mode = int(params.at("mode"));
        double threshold = params.at("th");
        if (mode == 1) threshold = otsuThreshold(normalized);
        if (mode == 2) {
            if (inputs.groundTruth.empty()) throw Error("method heatmap", "mode best-iou needs ground truth");
            double best = -1.0;
            for (int level = 0; level < 100; ++level) {
                const double candidate = level / 100.0;
                cv::Mat1i labels(normalized.size(), 0);
                labels.setTo(1, normalized > candidate);
                const double iou = maskIoUAt(resizeLabels(labels, inputs.groundTruth.size()) > 0, inputs.groundTruth > 0);
                if (iou > best) {
                    best = iou;
                    threshold = candidate;
                }
            }
        }
        return fromMask(normalized > threshold, normalized);
    }
};

class CamToMask final : public Segmenter {
public:
    std::string name() const override { return "cam-mask"; }
    std::string title() const override { return "CAM to mask with a background score"; }
    std::string citation() const override {
        return "Ahn et al., Weakly Supervised Learning of Instance Segmentation with Inter-pixel Relations, CVPR 2019";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"background", 0.15, 0.0, 1.0, false, "constant score of the background channel"}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::ClassMaps; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        std::vector<cv::Mat1f> maps = inputs.classMaps;
        if (maps.empty() && !inputs.map.empty()) maps.push_back(inputs.map);
        if (maps.empty()) throw Error("method cam-mask", "needs at least one class activation map");
        const float background = float(params.at("background"));
        Segmentation out;
        out.labels = cv::Mat1i(maps.front().size(), 0);
        out.score = cv::Mat1f(maps.front().size(), background);
        for (std::size_t c = 0; c < maps.size(); ++c) {
            if (maps[c].size() != maps.front().size()) throw Error("method cam-mask", "class maps differ in size");
            double high = 0.0;
            cv::minMaxLoc(maps[c], nullptr, &high);
            const cv::Mat1f cam = high > 0.0 ? cv::Mat1f(cv::max(maps[c], 0.0f) / high) : cv::Mat1f(maps[c].size(), 0.0f);
            const cv::Mat1b wins = cam > out.score;
            cam.copyTo(out.score, wins);
            out.labels.setTo(int(c) + 1, wins);
        }
        out.count = int(maps.size());
        out.boxes = segmentBoxes(out.labels, out.count);
        return out;
    }
};

class KeyParts final : public Segmenter {
public:
    std::string name() const override { return "kmeans-parts"; }
    std::string title() const override { return "k-means on patch keys (parts)"; }
    std::string citation() const override {
        return "Amir et al., Deep ViT Features as Dense Visual Descriptors, ECCVW 2022 (clustering of key features)";
    }
    std::vector<SegmenterParam> parameters() const override {
        return {{"k", 4, 2, 32, true, "clusters"},
                {"background", 1, 0, 1, true, "label the cluster touching the border most as background", {"no", "yes"}}};
    }
    SegmentNeeds needs() const override { return SegmentNeeds::Keys; }
    Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const override {
        requireKeys(inputs, name());
        const int k = std::min(int(params.at("k")), inputs.keys.rows);
        cv::Mat clusterLabels, centers;
        cv::theRNG().state = 0x5eed;
        cv::kmeans(normalizedRows(inputs.keys), k, clusterLabels,
                   cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 100, 1e-6), 4, cv::KMEANS_PP_CENTERS, centers);
        std::vector<int> cluster(std::size_t(inputs.keys.rows));
        for (int i = 0; i < inputs.keys.rows; ++i) cluster[std::size_t(i)] = clusterLabels.at<int>(i);
        return labelsFromClusters(cluster, k, inputs.gridRows, inputs.gridCols, params.at("background") > 0.5);
    }
};

}  // namespace

SegmentParams Segmenter::defaults() const {
    SegmentParams params;
    for (const SegmenterParam& p : parameters()) params[p.name] = p.defaultValue;
    return params;
}

SegmentParams Segmenter::resolve(const SegmentParams& given) const {
    SegmentParams params = defaults();
    const std::vector<SegmenterParam> known = parameters();
    for (const auto& [key, value] : given) {
        const auto p = std::find_if(known.begin(), known.end(), [&](const SegmenterParam& k) { return k.name == key; });
        if (p == known.end()) {
            std::string names;
            for (const SegmenterParam& k : known) names += (names.empty() ? "" : ", ") + k.name;
            throw Error("method " + name(), "has no parameter '" + key + "' (it has: " + (names.empty() ? "none" : names) + ")");
        }
        if (!(value >= p->minimum && value <= p->maximum)) {
            std::ostringstream range;
            range << p->minimum << ".." << p->maximum;
            throw Error("method " + name(), "parameter " + key + " must be in " + range.str());
        }
        if (p->integer && value != std::floor(value)) throw Error("method " + name(), "parameter " + key + " must be an integer");
        params[key] = value;
    }
    return params;
}

const std::vector<const Segmenter*>& segmenters() {
    static const DinoMass dino;
    static const Lost lost;
    static const TokenCut tokenCut;
    static const DeepSpectral spectral;
    static const HeatmapThreshold heatmap;
    static const CamToMask cam;
    static const KeyParts parts;
    static const std::vector<const Segmenter*> all = {&dino, &lost, &tokenCut, &spectral, &heatmap, &cam, &parts};
    return all;
}

const Segmenter& findSegmenter(const std::string& name) {
    for (const Segmenter* method : segmenters()) {
        if (method->name() == name) return *method;
    }
    std::string names;
    for (const std::string& known : segmenterNames()) names += (names.empty() ? "" : ", ") + known;
    throw Error("unknown segmentation method '" + name + "' (known: " + names + ")");
}

std::vector<std::string> segmenterNames() {
    std::vector<std::string> names;
    for (const Segmenter* method : segmenters()) names.push_back(method->name());
    return names;
}

}  // namespace fovea
