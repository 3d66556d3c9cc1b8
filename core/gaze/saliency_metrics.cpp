#include "core/gaze/saliency_metrics.h"

#include "core/util/error.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace fovea {
namespace {

// SplitMix64 (Steele et al. 2014): the same draws on every platform, unlike std::*_distribution.
class Draws {
public:
    explicit Draws(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n); the modulo bias is below n / 2^64.
    std::size_t below(std::size_t n) { return std::size_t(next() % n); }
    double unit() { return double(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t m_state;
};

void checkMap(const cv::Mat1f& map, const char* what) {
    if (map.empty()) throw Error(what, "the saliency map is empty");
}

void checkSameSize(const cv::Mat1f& a, const cv::Mat1f& b, const char* what) {
    checkMap(a, what);
    if (a.size() != b.size()) {
        throw Error(what, "maps of different sizes (" + std::to_string(a.cols) + "x" + std::to_string(a.rows) + " and " +
                              std::to_string(b.cols) + "x" + std::to_string(b.rows) + ")");
    }
}

// Row-major pixel index of each fixation; throws for one outside the map.
std::vector<int> fixationIndices(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, const char* what) {
    std::vector<int> indices;
    indices.reserve(fixations.size());
    for (const cv::Point2d& point : fixations) {
        const double col = std::floor(point.x), row = std::floor(point.y);
        if (!(col >= 0 && row >= 0 && col < map.cols && row < map.rows)) {
            throw Error(what, "fixation (" + std::to_string(point.x) + ", " + std::to_string(point.y) + ") lies outside the " +
                                  std::to_string(map.cols) + "x" + std::to_string(map.rows) + " map");
        }
        indices.push_back(int(row) * map.cols + int(col));
    }
    return indices;
}

const float* pixels(const cv::Mat1f& map, cv::Mat1f& keep) {
    keep = map.isContinuous() ? map : map.clone();
    return keep.ptr<float>();
}

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
        for (int j = firstIn[std::size_t(b)], end = j + countIn[std::size_t(b)]; j < end && thresholds[std::size_t(j)] <= v; ++j) ++k;
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

cv::Mat1f minMaxScaled(const cv::Mat1f& map) {
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(map, &low, &high);
    cv::Mat1f scaled;
    if (high > low) map.convertTo(scaled, CV_32F, 1.0 / (high - low), -low / (high - low));
    else scaled = cv::Mat1f(map.size(), 0.0f);
    return scaled;
}

}  // namespace

double aucJudd(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, RepeatedFixations repeats, double jitter,
               std::uint64_t seed) {
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
        const std::size_t k = std::size_t(std::upper_bound(thresholds.begin(), thresholds.end(), value) - thresholds.begin());
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

double aucBorji(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, int splits, double step, std::uint64_t seed) {
    checkMap(map, "AUC-Borji");
    if (fixations.empty()) return std::nan("");
    if (splits < 1 || !(step > 0.0)) throw Error("AUC-Borji", "needs splits >= 1 and a positive step");
    const std::vector<int> indices = fixationIndices(map, fixations, "AUC-Borji");
    const cv::Mat1f scaled = minMaxScaled(map);
    const float* values = scaled.ptr<float>();
    std::vector<float> positives;
    for (const int index : indices) positives.push_back(values[index]);
    Draws draws(seed);
    std::vector<float> negatives(positives.size());
    double sum = 0.0;
    for (int split = 0; split < splits; ++split) {
        for (float& v : negatives) v = values[draws.below(scaled.total())];
        sum += stepAuc(positives, negatives, step);
    }
    return sum / splits;
}

double aucShuffled(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, const std::vector<cv::Point2d>& otherFixations,
                   int splits, double step, std::uint64_t seed) {
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
    const cv::Mat1f scaled = minMaxScaled(map);
    const float* values = scaled.ptr<float>();
    std::vector<float> positives;
    for (const int index : indices) positives.push_back(values[index]);
    const std::size_t count = std::min(positives.size(), others.size());
    Draws draws(seed);
    std::vector<float> negatives(count);
    double sum = 0.0;
    for (int split = 0; split < splits; ++split) {
        // The first `count` of a random permutation (partial Fisher-Yates).
        for (std::size_t i = 0; i < count; ++i) {
            std::swap(others[i], others[i + draws.below(others.size() - i)]);
            negatives[i] = values[others[i]];
        }
        sum += stepAuc(positives, negatives, step);
    }
    return sum / splits;
}

std::vector<double> nssValues(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, StdConvention convention) {
    checkMap(map, "NSS");
    const std::vector<int> indices = fixationIndices(map, fixations, "NSS");
    cv::Scalar mean, deviation;
    cv::meanStdDev(map, mean, deviation);  // divides by N
    double sigma = deviation[0];
    const double n = double(map.total());
    if (convention == StdConvention::Sample && n > 1) sigma *= std::sqrt(n / (n - 1.0));
    cv::Mat1f keep;
    const float* values = pixels(map, keep);
    std::vector<double> result;
    for (const int index : indices) result.push_back(sigma > 0 ? (values[index] - mean[0]) / sigma : 0.0);
    return result;
}

double normalizedScanpathSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, StdConvention convention) {
    const std::vector<double> values = nssValues(map, fixations, convention);
    if (values.empty()) return std::nan("");
    return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

double correlationCoefficient(const cv::Mat1f& map, const cv::Mat1f& density) {
    checkSameSize(map, density, "CC");
    const cv::Scalar meanP = cv::mean(map), meanQ = cv::mean(density);
    cv::Mat1f keepP, keepQ;
    const float* p = pixels(map, keepP);
    const float* q = pixels(density, keepQ);
    const float mp = float(meanP[0]), mq = float(meanQ[0]);
    double pq = 0.0, pp = 0.0, qq = 0.0;
    const std::size_t n = map.total();
    // Centred sums in float per row of 1024, accumulated in double: exact enough, and the inner
    // loop vectorises.
    for (std::size_t begin = 0; begin < n; begin += 1024) {
        const std::size_t end = std::min(n, begin + 1024);
        float rowPq = 0.0f, rowPp = 0.0f, rowQq = 0.0f;
        for (std::size_t i = begin; i < end; ++i) {
            const float a = p[i] - mp, b = q[i] - mq;
            rowPq += a * b;
            rowPp += a * a;
            rowQq += b * b;
        }
        pq += rowPq;
        pp += rowPp;
        qq += rowQq;
    }
    if (pp <= 0.0 || qq <= 0.0) return 0.0;
    return pq / std::sqrt(pp * qq);
}

double klDivergence(const cv::Mat1f& map, const cv::Mat1f& density) {
    checkSameSize(map, density, "KLD");
    const double sumP = cv::sum(map)[0], sumQ = cv::sum(density)[0];
    if (!(sumQ > 0.0)) throw Error("KLD", "the fixation density map sums to zero");
    cv::Mat1f keepP, keepQ;
    const float* p = pixels(map, keepP);
    const float* q = pixels(density, keepQ);
    const float scaleP = sumP > 0 ? float(1.0 / sumP) : 0.0f, scaleQ = float(1.0 / sumQ);
    const float epsilon = float(kSaliencyEpsilon);
    const std::size_t n = map.total();
    // log() dominates; cv::log works on a whole row with SIMD.
    cv::Mat1f ratio(1, 2048), logRatio(1, 2048);
    double total = 0.0;
    for (std::size_t begin = 0; begin < n; begin += 2048) {
        const int count = int(std::min<std::size_t>(2048, n - begin));
        float* r = ratio.ptr<float>();
        for (int i = 0; i < count; ++i) {
            const float qi = q[begin + std::size_t(i)] * scaleQ;
            r[i] = epsilon + qi / (p[begin + std::size_t(i)] * scaleP + epsilon);
        }
        cv::log(ratio.colRange(0, count), logRatio.colRange(0, count));
        const float* l = logRatio.ptr<float>();
        float chunk = 0.0f;
        for (int i = 0; i < count; ++i) chunk += q[begin + std::size_t(i)] * l[i];
        total += double(chunk) * double(scaleQ);
    }
    return total;
}

double similarity(const cv::Mat1f& map, const cv::Mat1f& density, SimConvention convention) {
    checkSameSize(map, density, "SIM");
    const auto asDistribution = [&](const cv::Mat1f& m) {
        cv::Mat1f d;
        if (convention == SimConvention::Mit) {
            double low = 0.0, high = 0.0;
            cv::minMaxLoc(m, &low, &high);
            d = high > low ? minMaxScaled(m) : m.clone();
        } else {
            double low = 0.0;
            cv::minMaxLoc(m, &low, nullptr);
            d = low < 0 ? cv::Mat1f(m - low) : m.clone();
        }
        const double sum = cv::sum(d)[0];
        if (sum > 0) d *= 1.0 / sum;
        else d.setTo(1.0 / double(d.total()));  // pysaliency: an all-zero map becomes uniform
        return d;
    };
    cv::Mat smaller;
    cv::min(cv::Mat(asDistribution(map)), cv::Mat(asDistribution(density)), smaller);
    return cv::sum(smaller)[0];
}

double informationGain(const cv::Mat1f& map, const cv::Mat1f& baseline, const std::vector<cv::Point2d>& fixations) {
    checkSameSize(map, baseline, "information gain");
    if (fixations.empty()) return std::nan("");
    const std::vector<int> indices = fixationIndices(map, fixations, "information gain");
    // min-max scaling then division by the sum is (m − min) / (Σm − N min).
    const auto distribution = [](const cv::Mat1f& m) {
        double low = 0.0, high = 0.0;
        cv::minMaxLoc(m, &low, &high);
        const double total = cv::sum(m)[0] - double(m.total()) * low;
        return std::pair<double, double>(low, high > low ? total : 0.0);
    };
    const auto [lowP, totalP] = distribution(map);
    const auto [lowB, totalB] = distribution(baseline);
    cv::Mat1f keepP, keepB;
    const float* p = pixels(map, keepP);
    const float* b = pixels(baseline, keepB);
    double sum = 0.0;
    for (const int index : indices) {
        // A constant map is uniform (the MIT code would divide 0 by 0).
        const double pi = totalP > 0 ? (p[index] - lowP) / totalP : 1.0 / double(map.total());
        const double bi = totalB > 0 ? (b[index] - lowB) / totalB : 1.0 / double(map.total());
        sum += std::log2(kSaliencyEpsilon + pi) - std::log2(kSaliencyEpsilon + bi);
    }
    return sum / double(indices.size());
}

cv::Mat1f fixationDensityMap(cv::Size size, const std::vector<cv::Point2d>& fixations, double sigma) {
    if (size.width <= 0 || size.height <= 0) throw Error("fixation density map", "the size must be positive");
    if (!(sigma > 0.0)) throw Error("fixation density map", "sigma must be positive");
    cv::Mat1f density(size, 0.0f);
    const int radius = int(std::ceil(4.0 * sigma));
    std::vector<float> kernel(std::size_t(2 * radius + 1));
    for (int d = -radius; d <= radius; ++d) kernel[std::size_t(d + radius)] = float(std::exp(-0.5 * d * d / (sigma * sigma)));
    for (const cv::Point2d& point : fixations) {
        const double fx = std::floor(point.x), fy = std::floor(point.y);
        if (!(fx >= 0 && fy >= 0 && fx < size.width && fy < size.height)) {
            throw Error("fixation density map", "fixation (" + std::to_string(point.x) + ", " + std::to_string(point.y) +
                                                    ") lies outside the " + std::to_string(size.width) + "x" + std::to_string(size.height) + " image");
        }
        const int cx = int(fx), cy = int(fy);
        const int c0 = std::max(0, cx - radius), c1 = std::min(size.width - 1, cx + radius);
        const int r0 = std::max(0, cy - radius), r1 = std::min(size.height - 1, cy + radius);
        const float* kx = kernel.data() + (c0 - cx + radius);
        for (int r = r0; r <= r1; ++r) {
            const float wy = kernel[std::size_t(r - cy + radius)];
            float* row = density.ptr<float>(r) + c0;
            for (int c = 0; c <= c1 - c0; ++c) row[c] += wy * kx[c];
        }
    }
    return density;
}

double pixelsPerDegree(double screenWidthPixels, double screenWidthCm, double distanceCm) {
    if (!(screenWidthPixels > 0 && screenWidthCm > 0 && distanceCm > 0)) throw Error("pixels per degree", "sizes and distance must be positive");
    const double cmPerDegree = 2.0 * distanceCm * std::tan(0.5 * M_PI / 180.0);
    return cmPerDegree * screenWidthPixels / screenWidthCm;
}

cv::Mat1f centreBiasMap(cv::Size size, double sigmaFraction) {
    if (size.width <= 0 || size.height <= 0 || !(sigmaFraction > 0)) throw Error("centre bias map", "needs a positive size and sigma");
    const double sigma = sigmaFraction * std::max(size.width, size.height);
    const double cx = (size.width - 1) / 2.0, cy = (size.height - 1) / 2.0;
    std::vector<float> gx(std::size_t(size.width)), gy(std::size_t(size.height));
    for (int c = 0; c < size.width; ++c) gx[std::size_t(c)] = float(std::exp(-0.5 * (c - cx) * (c - cx) / (sigma * sigma)));
    for (int r = 0; r < size.height; ++r) gy[std::size_t(r)] = float(std::exp(-0.5 * (r - cy) * (r - cy) / (sigma * sigma)));
    cv::Mat1f map(size);
    for (int r = 0; r < size.height; ++r) {
        float* row = map.ptr<float>(r);
        for (int c = 0; c < size.width; ++c) row[c] = gy[std::size_t(r)] * gx[std::size_t(c)];
    }
    return map;
}

std::vector<const char*> saliencyMetricNames() { return {"auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig"}; }

std::vector<double> saliencyMetricValues(const SaliencyScores& s) {
    return {s.aucJudd, s.aucBorji, s.aucShuffled, s.nss, s.cc, s.kld, s.sim, s.informationGain};
}

SaliencyScores scoreSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, const SaliencyOptions& options,
                             const cv::Mat1f& density, const cv::Mat1f& baseline, const std::vector<cv::Point2d>& otherFixations) {
    checkMap(map, "saliency scores");
    SaliencyScores scores;
    scores.fixations = int(fixations.size());
    if (fixations.empty()) {
        const double nan = std::nan("");
        scores.aucJudd = scores.aucBorji = scores.aucShuffled = scores.nss = scores.cc = scores.kld = scores.sim = scores.informationGain = nan;
        return scores;
    }
    const double sigma = options.sigma > 0 ? options.sigma : std::max(map.cols, map.rows) / 30.0;
    const cv::Mat1f q = density.empty() ? fixationDensityMap(map.size(), fixations, sigma) : density;
    const cv::Mat1f b = baseline.empty() ? centreBiasMap(map.size()) : baseline;
    scores.aucJudd = aucJudd(map, fixations, options.repeats);
    scores.aucBorji = aucBorji(map, fixations, options.splits, options.step, options.seed);
    scores.aucShuffled = otherFixations.empty() ? std::nan("")
                                                : aucShuffled(map, fixations, otherFixations, options.splits, options.step, options.seed);
    scores.nss = normalizedScanpathSaliency(map, fixations, options.nssStd);
    scores.cc = correlationCoefficient(map, q);
    scores.kld = klDivergence(map, q);
    scores.sim = similarity(map, q, options.sim);
    scores.informationGain = informationGain(map, b, fixations);
    return scores;
}

}  // namespace fovea
