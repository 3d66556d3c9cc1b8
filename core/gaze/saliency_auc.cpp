// The ROC-area saliency metrics: AUC-Judd, pysaliency's per-fixation AUC, AUC-Borji and shuffled
// AUC (saliency_metrics.h), and the helpers all saliency metrics share (saliency_detail.h).
#include "core/gaze/saliency_detail.h"
#include "core/gaze/saliency_metrics.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace fovea {
namespace saliency_detail {

void checkMap(const cv::Mat1f& map, const char* what) {
    if (map.empty()) throw Error(what, "the saliency map is empty");
}

void checkSameSize(const cv::Mat1f& a, const cv::Mat1f& b, const char* what) {
    checkMap(a, what);
    if (a.size() != b.size()) {
        throw Error(what, "maps of different sizes (" + std::to_string(a.cols) + "x" + std::to_string(a.rows) +
                              " and " + std::to_string(b.cols) + "x" + std::to_string(b.rows) + ")");
    }
}

std::vector<int> fixationIndices(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, const char* what) {
    std::vector<int> indices;
    indices.reserve(fixations.size());
    for (const cv::Point2d& point : fixations) {
        const double col = std::floor(point.x), row = std::floor(point.y);
        if (!(col >= 0 && row >= 0 && col < map.cols && row < map.rows)) {
            throw Error(what, "fixation (" + std::to_string(point.x) + ", " + std::to_string(point.y) +
                                  ") lies outside the " + std::to_string(map.cols) + "x" + std::to_string(map.rows) +
                                  " map");
        }
        indices.push_back(int(row) * map.cols + int(col));
    }
    return indices;
}

const float* pixels(const cv::Mat1f& map, cv::Mat1f& keep) {
    keep = map.isContinuous() ? map : map.clone();
    return keep.ptr<float>();
}

MapStats mapStats(const float* values, std::size_t count) {
    MapStats stats;
    stats.count = count;
    if (count == 0) return stats;
    // Eight independent lanes (which the compiler turns into SIMD without reassociating floats),
    // float sums over 64 values then double; sums of v − v0 keep the variance exact for maps far
    // from zero.
    constexpr std::size_t kLanes = 8, kChunk = 64;
    const float origin = values[0];
    float low[kLanes], high[kLanes];
    for (std::size_t k = 0; k < kLanes; ++k) low[k] = high[k] = origin;
    double sum = 0.0, squares = 0.0;
    std::size_t i = 0;
    for (; i + kChunk <= count; i += kChunk) {
        float s[kLanes] = {}, q[kLanes] = {};
        for (std::size_t j = i; j < i + kChunk; j += kLanes) {
            for (std::size_t k = 0; k < kLanes; ++k) {
                const float v = values[j + k];
                low[k] = v < low[k] ? v : low[k];
                high[k] = v > high[k] ? v : high[k];
                const float d = v - origin;
                s[k] += d;
                q[k] += d * d;
            }
        }
        for (std::size_t k = 0; k < kLanes; ++k) {
            sum += s[k];
            squares += q[k];
        }
    }
    for (; i < count; ++i) {
        low[0] = std::min(low[0], values[i]);
        high[0] = std::max(high[0], values[i]);
        const double d = double(values[i]) - origin;
        sum += d;
        squares += d * d;
    }
    stats.low = *std::min_element(low, low + kLanes);
    stats.high = *std::max_element(high, high + kLanes);
    const double n = double(count);
    stats.sum = sum + double(origin) * n;
    stats.mean = double(origin) + sum / n;
    stats.std = std::sqrt(std::max(0.0, squares / n - (sum / n) * (sum / n)));
    return stats;
}

}  // namespace saliency_detail

using namespace saliency_detail;

namespace {

double trapezoid(const std::vector<double>& x, const std::vector<double>& y) {
    double area = 0.0;
    for (std::size_t i = 1; i < x.size(); ++i) area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
    return area;
}

// For each threshold (ascending, distinct), how many pixels of `values` are >= it. One pass: a
// pixel's bucket on a fine grid over [low, high] tells how many thresholds lie in lower buckets
// (bucketing is monotone, so those are all below it); only thresholds in its own bucket are
// compared. A plain binary search per pixel costs about 3x more on 1024x768 maps.
std::vector<std::int64_t> countAtOrAbove(const float* values, std::size_t count, const std::vector<float>& thresholds) {
    const std::size_t m = thresholds.size();
    std::vector<std::int64_t> histogram(m + 1, 0);  // histogram[k]: pixels with exactly k thresholds <= value
    if (m == 0) return {};
    const float low = thresholds.front(), high = thresholds.back();
    constexpr int kBuckets = 4096;
    const float scale = high > low ? float(kBuckets - 1) / (high - low) : 0.0f;
    const auto bucketOf = [&](float v) {
        if (!(v >= low)) return -1;  // below every threshold (NaN too)
        const float b = (v - low) * scale;
        return b >= float(kBuckets - 1) ? kBuckets - 1 : int(b);
    };
    std::vector<int> below(kBuckets + 1, 0), firstIn(kBuckets, 0), countIn(kBuckets, 0);
    for (std::size_t j = 0; j < m; ++j) {
        const int b = bucketOf(thresholds[j]);
        if (countIn[std::size_t(b)]++ == 0) firstIn[std::size_t(b)] = int(j);
    }
    for (int b = 0; b < kBuckets; ++b) below[std::size_t(b) + 1] = below[std::size_t(b)] + countIn[std::size_t(b)];
    for (std::size_t i = 0; i < count; ++i) {
        const float v = values[i];
        const int b = bucketOf(v);
        if (b < 0) {
            ++histogram[0];
            continue;
        }
        int k = below[std::size_t(b)];
        for (int j = firstIn[std::size_t(b)], end = j + countIn[std::size_t(b)];
             j < end && thresholds[std::size_t(j)] <= v; ++j)
            ++k;
        ++histogram[std::size_t(k)];
    }
    std::vector<std::int64_t> atOrAbove(m, 0);
    std::int64_t running = 0;
    for (std::size_t k = m; k >= 1; --k) {
        running += histogram[k];
        atOrAbove[k - 1] = running;
    }
    return atOrAbove;
}

// The ROC area of Borji's and the shuffled AUC: thresholds 0, step, ... up to the largest value.
double stepAuc(const std::vector<float>& positives, const std::vector<float>& negatives, double step) {
    float top = 0.0f;
    for (const float v : positives) top = std::max(top, v);
    for (const float v : negatives) top = std::max(top, v);
    const int steps = int(std::floor(double(top) / step + 1e-9));
    std::vector<double> tp{0.0}, fp{0.0};
    for (int k = steps; k >= 0; --k) {
        const double threshold = k * step;
        std::size_t hits = 0, falseHits = 0;
        for (const float v : positives) hits += v >= threshold;
        for (const float v : negatives) falseHits += v >= threshold;
        tp.push_back(double(hits) / double(positives.size()));
        fp.push_back(double(falseHits) / double(negatives.size()));
    }
    tp.push_back(1.0);
    fp.push_back(1.0);
    return trapezoid(fp, tp);
}

// The MIT code min-max scales the map before Borji's and the shuffled AUC; only the values it
// looks at are scaled here (the same floats: (v − low) × 1/(high − low)).
struct Scaler {
    float low = 0.0f, scale = 0.0f;
    Scaler(double lowValue, double highValue)
        : low(float(lowValue)), scale(highValue > lowValue ? float(1.0 / (highValue - lowValue)) : 0.0f) {}
    float operator()(float v) const { return (v - low) * scale; }
};

}  // namespace

double aucJudd(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, RepeatedFixations repeats,
               double jitter, std::uint64_t seed) {
    checkMap(map, "AUC-Judd");
    if (fixations.empty()) return std::nan("");
    std::vector<int> indices = fixationIndices(map, fixations, "AUC-Judd");
    cv::Mat1f keep;
    const float* values = pixels(map, keep);
    if (jitter > 0.0) {
        double low = 0.0, high = 0.0;
        cv::minMaxLoc(map, &low, &high);
        const double size = jitter * (high > low ? high - low : 1.0);
        Draws draws(seed);
        cv::Mat1f noisy = keep.clone();
        for (float& v : noisy) v = float(v + size * draws.unit());
        keep = noisy;
        values = keep.ptr<float>();
    }
    // Each fixated pixel once, with its weight: its fixation count, or one.
    std::sort(indices.begin(), indices.end());
    std::vector<std::pair<float, double>> fixated;  // (value, weight)
    for (std::size_t i = 0; i < indices.size();) {
        std::size_t j = i;
        while (j < indices.size() && indices[j] == indices[i]) ++j;
        fixated.emplace_back(values[indices[i]], repeats == RepeatedFixations::Count ? double(j - i) : 1.0);
        i = j;
    }
    std::vector<float> thresholds;
    for (const auto& [value, weight] : fixated) thresholds.push_back(value);
    std::sort(thresholds.begin(), thresholds.end());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    const std::vector<std::int64_t> allAbove = countAtOrAbove(values, map.total(), thresholds);
    const std::size_t m = thresholds.size();
    std::vector<double> weightAbove(m, 0.0), fixatedAbove(m, 0.0);
    double totalWeight = 0.0;
    for (const auto& [value, weight] : fixated) {
        totalWeight += weight;
        const std::size_t k =
            std::size_t(std::upper_bound(thresholds.begin(), thresholds.end(), value) - thresholds.begin());
        for (std::size_t j = 0; j < k; ++j) {
            weightAbove[j] += weight;
            fixatedAbove[j] += 1.0;
        }
    }
    const double negatives = double(map.total()) - double(fixated.size());
    std::vector<double> tp{0.0}, fp{0.0};
    for (std::size_t j = m; j-- > 0;) {
        tp.push_back(weightAbove[j] / totalWeight);
        fp.push_back(negatives > 0 ? (double(allAbove[j]) - fixatedAbove[j]) / negatives : 0.0);
    }
    tp.push_back(1.0);
    fp.push_back(1.0);
    return trapezoid(fp, tp);
}

std::vector<double> fixationAucs(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations) {
    checkMap(map, "AUC");
    const std::vector<int> indices = fixationIndices(map, fixations, "AUC");
    cv::Mat1f keep;
    const float* values = pixels(map, keep);
    std::vector<float> sorted(values, values + map.total());
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> result;
    for (const int index : indices) {
        const float v = values[index];
        const auto below = std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
        const auto atOrBelow = std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
        result.push_back((double(below) + 0.5 * double(atOrBelow - below)) / double(sorted.size()));
    }
    return result;
}

namespace saliency_detail {

double aucBorjiFrom(const float* values, std::size_t count, double low, double high, const std::vector<int>& fixated,
                    int splits, double step, std::uint64_t seed) {
    if (fixated.empty()) return std::nan("");
    if (splits < 1 || !(step > 0.0)) throw Error("AUC-Borji", "needs splits >= 1 and a positive step");
    const Scaler scaled(low, high);
    std::vector<float> positives;
    for (const int index : fixated) positives.push_back(scaled(values[index]));
    Draws draws(seed);
    std::vector<float> negatives(positives.size());
    double sum = 0.0;
    for (int split = 0; split < splits; ++split) {
        for (float& v : negatives) v = scaled(values[draws.below(count)]);
        sum += stepAuc(positives, negatives, step);
    }
    return sum / splits;
}

}  // namespace saliency_detail

double aucBorji(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, int splits, double step,
                std::uint64_t seed) {
    checkMap(map, "AUC-Borji");
    if (fixations.empty()) return std::nan("");
    const std::vector<int> indices = fixationIndices(map, fixations, "AUC-Borji");
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(map, &low, &high);
    cv::Mat1f keep;
    return aucBorjiFrom(pixels(map, keep), map.total(), low, high, indices, splits, step, seed);
}

double aucShuffled(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                   const std::vector<cv::Point2d>& otherFixations, int splits, double step, std::uint64_t seed) {
    checkMap(map, "shuffled AUC");
    if (fixations.empty()) return std::nan("");
    if (splits < 1 || !(step > 0.0)) throw Error("shuffled AUC", "needs splits >= 1 and a positive step");
    const std::vector<int> indices = fixationIndices(map, fixations, "shuffled AUC");
    // The MIT code takes the other images' fixation map (each pixel once); points outside this
    // map cannot be negatives here.
    std::vector<int> others;
    for (const cv::Point2d& point : otherFixations) {
        const double col = std::floor(point.x), row = std::floor(point.y);
        if (col >= 0 && row >= 0 && col < map.cols && row < map.rows) others.push_back(int(row) * map.cols + int(col));
    }
    std::sort(others.begin(), others.end());
    others.erase(std::unique(others.begin(), others.end()), others.end());
    if (others.empty()) return std::nan("");
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(map, &low, &high);
    const Scaler scaled(low, high);
    cv::Mat1f keep;
    const float* values = pixels(map, keep);
    std::vector<float> positives;
    for (const int index : indices) positives.push_back(scaled(values[index]));
    const std::size_t count = std::min(positives.size(), others.size());
    Draws draws(seed);
    std::vector<float> negatives(count);
    double sum = 0.0;
    for (int split = 0; split < splits; ++split) {
        // The first `count` of a random permutation (partial Fisher-Yates).
        for (std::size_t i = 0; i < count; ++i) {
            std::swap(others[i], others[i + draws.below(others.size() - i)]);
            negatives[i] = scaled(values[others[i]]);
        }
        sum += stepAuc(positives, negatives, step);
    }
    return sum / splits;
}

}  // namespace fovea
