// The saliency metrics that read whole maps (NSS, CC, KLD, SIM, IG), fixation density and
// centre-bias maps, and scoreSaliency, which computes every metric with as few passes over the
// maps as it can (the AUCs are in saliency_auc.cpp).
#include "core/gaze/saliency_metrics.h"
#include "core/gaze/saliency_detail.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>

namespace fovea {

using namespace saliency_detail;

namespace {

// A map made a distribution, branch-free: v × scale + offset, offset = −shift × scale; an
// all-zero map is uniform (scale 0, offset 1/N).
struct Distribution {
    float scale = 0.0f, offset = 0.0f;
    float operator()(float v) const { return v * scale + offset; }
};

Distribution distributionOf(const MapStats& stats, double shift) {
    const double total = stats.sum - double(stats.count) * shift;
    Distribution d;
    if (total > 0) {
        d.scale = float(1.0 / total);
        d.offset = float(-shift / total);
    } else {
        d.offset = float(1.0 / double(stats.count));
    }
    return d;
}

// pysaliency's convert_saliency_map_to_density: shifted only when it has negative values.
Distribution densityOf(const MapStats& stats) {
    return distributionOf(stats, std::min(stats.low, 0.0));
}

// SIM's two conventions (see the header): MIT min-max scales first, which after the division is
// a shift by the minimum; a constant map it leaves as it is.
Distribution simDistributionOf(const MapStats& stats, SimConvention convention) {
    if (convention == SimConvention::Tuebingen) return densityOf(stats);
    return distributionOf(stats, stats.high > stats.low ? stats.low : 0.0);
}

// Natural log of positive normal floats, in place, over a block of kLogBlock values: x = m · 2^e
// with m in [√½, √2), log m = 2 atanh(s), s = (m − 1)/(m + 1), |s| < 0.172, by its series to s⁹
// (error below 1e-9 before float rounding). The fixed trip count lets the compiler vectorise
// it at -O2; cv::log and a scalar loop were the slowest part of KLD on 1024x768 maps.
constexpr std::size_t kLogBlock = 2048;

void logBlock(float* values) {
    for (std::size_t i = 0; i < kLogBlock; ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        // Branch-free (a branch keeps the loop scalar): m's bits above √2's (0x3FB504F3) set
        // the sign of the difference; halving m takes one from its exponent field.
        std::uint32_t mantissaBits = (bits & 0x007FFFFFu) | 0x3F800000u;
        const std::uint32_t high = (0x3FB504F3u - mantissaBits) >> 31;
        mantissaBits -= high << 23;
        float m;
        std::memcpy(&m, &mantissaBits, sizeof m);
        const float exponent = float(std::int32_t((bits >> 23) & 0xFFu) - 127 + std::int32_t(high));
        const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
        const float series =
            s * (2.0f + s2 * (2.0f / 3.0f + s2 * (2.0f / 5.0f + s2 * (2.0f / 7.0f + s2 * (2.0f / 9.0f)))));
        values[i] = exponent * 0.693147180559945f + series;
    }
}

struct PairSums {
    double covariance = 0.0;  // Σ (p − mean p)(q − mean q)
    double intersection = 0.0;
    double kld = 0.0;
};

// One pass over P and Q for CC's covariance, SIM's intersection and (when asked; its log is the
// costly part) KLD. Eight independent lanes so the compiler vectorises without reassociating;
// float sums over 64 values, then double.
PairSums pairSums(const float* p, const float* q, const MapStats& statsP, const MapStats& statsQ,
                  SimConvention convention, bool withKld) {
    constexpr std::size_t kLanes = 8, kChunk = 64, kBlock = kLogBlock;
    const std::size_t n = statsP.count;
    const float meanP = float(statsP.mean), meanQ = float(statsQ.mean);
    const Distribution simP = simDistributionOf(statsP, convention), simQ = simDistributionOf(statsQ, convention);
    const Distribution kldP = densityOf(statsP), kldQ = densityOf(statsQ);
    const float epsilon = float(kSaliencyEpsilon);
    std::vector<float> ratio(kBlock);
    PairSums sums;
    const auto accumulate = [&](std::size_t begin, std::size_t end) {
        std::size_t i = begin;
        for (; i + kChunk <= end; i += kChunk) {
            float covariance[kLanes] = {}, intersection[kLanes] = {};
            for (std::size_t j = i; j < i + kChunk; j += kLanes) {
                for (std::size_t k = 0; k < kLanes; ++k) {
                    const float a = p[j + k], b = q[j + k];
                    covariance[k] += (a - meanP) * (b - meanQ);
                    const float x = simP(a), y = simQ(b);
                    intersection[k] += x < y ? x : y;
                }
            }
            for (std::size_t k = 0; k < kLanes; ++k) {
                sums.covariance += covariance[k];
                sums.intersection += intersection[k];
            }
        }
        for (; i < end; ++i) {
            sums.covariance += double(p[i] - meanP) * double(q[i] - meanQ);
            sums.intersection += std::min(simP(p[i]), simQ(q[i]));
        }
    };
    for (std::size_t begin = 0; begin < n; begin += kBlock) {
        const std::size_t end = std::min(n, begin + kBlock);
        accumulate(begin, end);
        if (!withKld) continue;
        float* l = ratio.data();
        std::size_t i = begin;
        for (; i + kLanes <= end; i += kLanes) {
            for (std::size_t k = 0; k < kLanes; ++k)
                l[i + k - begin] = epsilon + kldQ(q[i + k]) / (kldP(p[i + k]) + epsilon);
        }
        for (; i < end; ++i) l[i - begin] = epsilon + kldQ(q[i]) / (kldP(p[i]) + epsilon);
        std::fill(l + (end - begin), l + kBlock, 1.0f);  // the last block's unused tail
        logBlock(l);
        for (i = begin; i + kChunk <= end; i += kChunk) {
            float part[kLanes] = {};
            for (std::size_t j = i; j < i + kChunk; j += kLanes) {
                for (std::size_t k = 0; k < kLanes; ++k) part[k] += kldQ(q[j + k]) * l[j + k - begin];
            }
            for (std::size_t k = 0; k < kLanes; ++k) sums.kld += part[k];
        }
        for (; i < end; ++i) sums.kld += double(kldQ(q[i])) * l[i - begin];
    }
    return sums;
}

double correlationFrom(const PairSums& sums, const MapStats& statsP, const MapStats& statsQ) {
    if (statsP.std <= 0.0 || statsQ.std <= 0.0) return 0.0;
    return sums.covariance / (double(statsP.count) * statsP.std * statsQ.std);
}

double informationGainFrom(const float* p, const float* b, const MapStats& statsP, const MapStats& statsB,
                           const std::vector<int>& fixated) {
    // Min-max scaling then division by the sum is (m − min) / (Σm − N min); a constant map is
    // uniform (the MIT code would divide 0 by 0).
    const double n = double(statsP.count);
    const double totalP = statsP.high > statsP.low ? statsP.sum - n * statsP.low : 0.0;
    const double totalB = statsB.high > statsB.low ? statsB.sum - n * statsB.low : 0.0;
    double sum = 0.0;
    for (const int index : fixated) {
        const double pi = totalP > 0 ? (p[index] - statsP.low) / totalP : 1.0 / n;
        const double bi = totalB > 0 ? (b[index] - statsB.low) / totalB : 1.0 / n;
        sum += std::log2(kSaliencyEpsilon + pi) - std::log2(kSaliencyEpsilon + bi);
    }
    return sum / double(fixated.size());
}

std::vector<double> nssFrom(const float* p, const MapStats& stats, const std::vector<int>& fixated,
                            StdConvention convention) {
    double sigma = stats.std;
    const double n = double(stats.count);
    if (convention == StdConvention::Sample && n > 1) sigma *= std::sqrt(n / (n - 1.0));
    std::vector<double> values;
    for (const int index : fixated) values.push_back(sigma > 0 ? (p[index] - stats.mean) / sigma : 0.0);
    return values;
}

double meanOf(const std::vector<double>& values) {
    return values.empty() ? std::nan("") : std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

}  // namespace

std::vector<double> nssValues(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                              StdConvention convention) {
    checkMap(map, "NSS");
    const std::vector<int> indices = fixationIndices(map, fixations, "NSS");
    cv::Mat1f keep;
    const float* p = pixels(map, keep);
    return nssFrom(p, mapStats(p, map.total()), indices, convention);
}

double normalizedScanpathSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                                  StdConvention convention) {
    return meanOf(nssValues(map, fixations, convention));
}

double correlationCoefficient(const cv::Mat1f& map, const cv::Mat1f& density) {
    checkSameSize(map, density, "CC");
    cv::Mat1f keepP, keepQ;
    const float* p = pixels(map, keepP);
    const float* q = pixels(density, keepQ);
    const MapStats statsP = mapStats(p, map.total()), statsQ = mapStats(q, density.total());
    return correlationFrom(pairSums(p, q, statsP, statsQ, SimConvention::Tuebingen, false), statsP, statsQ);
}

double klDivergence(const cv::Mat1f& map, const cv::Mat1f& density) {
    checkSameSize(map, density, "KLD");
    cv::Mat1f keepP, keepQ;
    const float* p = pixels(map, keepP);
    const float* q = pixels(density, keepQ);
    const MapStats statsP = mapStats(p, map.total()), statsQ = mapStats(q, density.total());
    if (!(statsQ.high > 0.0 || statsQ.low < 0.0)) throw Error("KLD", "the fixation density map is all zero");
    return pairSums(p, q, statsP, statsQ, SimConvention::Tuebingen, true).kld;
}

double similarity(const cv::Mat1f& map, const cv::Mat1f& density, SimConvention convention) {
    checkSameSize(map, density, "SIM");
    cv::Mat1f keepP, keepQ;
    const float* p = pixels(map, keepP);
    const float* q = pixels(density, keepQ);
    const MapStats statsP = mapStats(p, map.total()), statsQ = mapStats(q, density.total());
    return pairSums(p, q, statsP, statsQ, convention, false).intersection;
}

double informationGain(const cv::Mat1f& map, const cv::Mat1f& baseline, const std::vector<cv::Point2d>& fixations) {
    checkSameSize(map, baseline, "information gain");
    if (fixations.empty()) return std::nan("");
    const std::vector<int> indices = fixationIndices(map, fixations, "information gain");
    cv::Mat1f keepP, keepB;
    const float* p = pixels(map, keepP);
    const float* b = pixels(baseline, keepB);
    return informationGainFrom(p, b, mapStats(p, map.total()), mapStats(b, baseline.total()), indices);
}

cv::Mat1f fixationDensityMap(cv::Size size, const std::vector<cv::Point2d>& fixations, double sigma) {
    if (size.width <= 0 || size.height <= 0) throw Error("fixation density map", "the size must be positive");
    if (!(sigma > 0.0)) throw Error("fixation density map", "sigma must be positive");
    cv::Mat1f density(size, 0.0f);
    const int radius = int(std::ceil(4.0 * sigma));
    std::vector<float> kernel(std::size_t(2 * radius + 1));
    for (int d = -radius; d <= radius; ++d)
        kernel[std::size_t(d + radius)] = float(std::exp(-0.5 * d * d / (sigma * sigma)));
    for (const cv::Point2d& point : fixations) {
        const double fx = std::floor(point.x), fy = std::floor(point.y);
        if (!(fx >= 0 && fy >= 0 && fx < size.width && fy < size.height)) {
            throw Error("fixation density map", "fixation (" + std::to_string(point.x) + ", " +
                                                    std::to_string(point.y) + ") lies outside the " +
                                                    std::to_string(size.width) + "x" + std::to_string(size.height) +
                                                    " image");
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
    if (!(screenWidthPixels > 0 && screenWidthCm > 0 && distanceCm > 0))
        throw Error("pixels per degree", "sizes and distance must be positive");
    const double cmPerDegree = 2.0 * distanceCm * std::tan(0.5 * M_PI / 180.0);
    return cmPerDegree * screenWidthPixels / screenWidthCm;
}

cv::Mat1f centreBiasMap(cv::Size size, double sigmaFraction) {
    if (size.width <= 0 || size.height <= 0 || !(sigmaFraction > 0))
        throw Error("centre bias map", "needs a positive size and sigma");
    const double sigma = sigmaFraction * std::max(size.width, size.height);
    const double cx = (size.width - 1) / 2.0, cy = (size.height - 1) / 2.0;
    std::vector<float> gx(std::size_t(size.width)), gy(std::size_t(size.height));
    for (int c = 0; c < size.width; ++c)
        gx[std::size_t(c)] = float(std::exp(-0.5 * (c - cx) * (c - cx) / (sigma * sigma)));
    for (int r = 0; r < size.height; ++r)
        gy[std::size_t(r)] = float(std::exp(-0.5 * (r - cy) * (r - cy) / (sigma * sigma)));
    cv::Mat1f map(size);
    for (int r = 0; r < size.height; ++r) {
        float* row = map.ptr<float>(r);
        for (int c = 0; c < size.width; ++c) row[c] = gy[std::size_t(r)] * gx[std::size_t(c)];
    }
    return map;
}

std::vector<const char*> saliencyMetricNames() {
    return {"auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig"};
}

std::vector<double> saliencyMetricValues(const SaliencyScores& s) {
    return {s.aucJudd, s.aucBorji, s.aucShuffled, s.nss, s.cc, s.kld, s.sim, s.informationGain};
}

SaliencyScores scoreSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                             const SaliencyOptions& options, const cv::Mat1f& density, const cv::Mat1f& baseline,
                             const std::vector<cv::Point2d>& otherFixations) {
    checkMap(map, "saliency scores");
    SaliencyScores scores;
    scores.fixations = int(fixations.size());
    if (fixations.empty()) {
        const double nan = std::nan("");
        scores.aucJudd = scores.aucBorji = scores.aucShuffled = scores.nss = scores.cc = scores.kld = scores.sim =
            scores.informationGain = nan;
        return scores;
    }
    const std::vector<int> indices = fixationIndices(map, fixations, "saliency scores");
    const double sigma = options.sigma > 0 ? options.sigma : std::max(map.cols, map.rows) / 30.0;
    const cv::Mat1f q = density.empty() ? fixationDensityMap(map.size(), fixations, sigma) : density;
    const cv::Mat1f b = baseline.empty() ? centreBiasMap(map.size()) : baseline;
    checkSameSize(map, q, "saliency scores (density)");
    checkSameSize(map, b, "saliency scores (baseline)");
    if (!otherFixations.empty()) {
        scores.aucShuffled = aucShuffled(map, fixations, otherFixations, options.splits, options.step, options.seed);
    } else {
        scores.aucShuffled = std::nan("");
    }
    // Each map's statistics once, then one joint pass for CC, SIM and KLD: about six reads of the
    // map's memory instead of some twenty when each metric runs on its own.
    cv::Mat1f keepP, keepQ, keepB;
    const float* p = pixels(map, keepP);
    const float* qp = pixels(q, keepQ);
    const float* bp = pixels(b, keepB);
    const MapStats statsP = mapStats(p, map.total()), statsQ = mapStats(qp, q.total()),
                   statsB = mapStats(bp, b.total());
    scores.aucJudd = aucJudd(map, fixations, options.repeats);
    scores.aucBorji =
        aucBorjiFrom(p, map.total(), statsP.low, statsP.high, indices, options.splits, options.step, options.seed);
    scores.nss = meanOf(nssFrom(p, statsP, indices, options.nssStd));
    const PairSums sums = pairSums(p, qp, statsP, statsQ, options.sim, statsQ.high > 0.0 || statsQ.low < 0.0);
    scores.cc = correlationFrom(sums, statsP, statsQ);
    scores.kld = sums.kld;
    scores.sim = sums.intersection;
    scores.informationGain = informationGainFrom(p, bp, statsP, statsB, indices);
    return scores;
}

}  // namespace fovea
