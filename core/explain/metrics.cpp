#include "core/explain/metrics.h"

#include "core/explain/grid_solver.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

namespace fovea {
namespace {

cv::Mat floatMap(const cv::Mat& map, cv::Size size) {
    if (map.empty() || map.channels() != 1) throw Error("explanation metric", "expected a single-channel map");
    cv::Mat values;
    map.convertTo(values, CV_32F);
    if (values.size() != size) cv::resize(values, values, size, 0, 0, cv::INTER_LINEAR);
    return values;
}

std::vector<int> orderBySaliency(const cv::Mat& saliency) {
    std::vector<int> order(saliency.total());
    std::iota(order.begin(), order.end(), 0);
    const float* s = saliency.ptr<float>();
    std::stable_sort(order.begin(), order.end(), [s](int a, int b) { return s[a] > s[b]; });
    return order;
}

PerturbationCurve perturbation(const cv::Mat& start, const cv::Mat& source, const cv::Mat& saliency,
                               const ImageScorer& scorer, int pixelsPerStep) {
    if (pixelsPerStep <= 0) throw Error("deletion/insertion", "pixels per step must be positive");
    const cv::Mat values = floatMap(saliency, start.size());
    const std::vector<int> order = orderBySaliency(values);
    cv::Mat current = start.clone();
    PerturbationCurve curve;
    const int total = int(order.size());
    const int steps = (total + pixelsPerStep - 1) / pixelsPerStep;
    for (int step = 0; step <= steps; ++step) {
        if (step > 0) {
            const int from = (step - 1) * pixelsPerStep, to = std::min(total, step * pixelsPerStep);
            for (int i = from; i < to; ++i) {
                const int y = order[std::size_t(i)] / start.cols, x = order[std::size_t(i)] % start.cols;
                source.row(y).col(x).copyTo(current.row(y).col(x));
            }
        }
        curve.fraction.push_back(double(std::min(total, step * pixelsPerStep)) / total);
        curve.score.push_back(scorer(current));
    }
    const std::size_t n = curve.score.size();
    if (n >= 2) {
        const double sum = std::accumulate(curve.score.begin(), curve.score.end(), 0.0);
        curve.auc = (sum - curve.score.front() / 2 - curve.score.back() / 2) / double(n - 1);
    }
    return curve;
}

// ROAD's linear imputer on the removed pixels: s_i x_i - sum_j w_ij x_j = sum_k w_ik v_k, where
// j runs over removed neighbours, k over kept ones, w is 1/6 for the sides and 1/12 for the
// diagonals, and s_i sums the weights of the neighbours inside the image. Also fills the
// right-hand side (interleaved channels).
GridSystem imputationSystem(const cv::Mat& image, const cv::Mat& removed, std::vector<double>& rightHand) {
    GridSystem system;
    std::vector<int> index(image.total(), -1);
    for (int y = 0; y < image.rows; ++y) {
        const uchar* row = removed.ptr<uchar>(y);
        for (int x = 0; x < image.cols; ++x) {
            if (row[x] == 0) continue;
            index[std::size_t(y) * std::size_t(image.cols) + std::size_t(x)] = int(system.cells.size());
            system.cells.emplace_back(x, y);
        }
    }
    const std::size_t c = std::size_t(image.channels());
    system.stencil.resize(system.cells.size());
    rightHand.assign(system.cells.size() * c, 0.0);
    for (std::size_t i = 0; i < system.cells.size(); ++i) {
        GridStencil& stencil = system.stencil[i];
        stencil.neighbour[4] = int(i);
        for (int dy = -1; dy <= 1; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
                const int y = system.cells[i].y + dy, x = system.cells[i].x + dx;
                // Neighbours outside the image are left out: s_i then sums fewer weights.
                if ((dx == 0 && dy == 0) || y < 0 || x < 0 || y >= image.rows || x >= image.cols) continue;
                const double w = (dx == 0 || dy == 0) ? 1.0 / 6.0 : 1.0 / 12.0;
                stencil.coefficient[4] += w;
                const int j = index[std::size_t(y) * std::size_t(image.cols) + std::size_t(x)];
                if (j >= 0) {
                    const auto slot = std::size_t((dy + 1) * 3 + dx + 1);
                    stencil.neighbour[slot] = j;
                    stencil.coefficient[slot] = -w;
                } else {
                    const float* value = image.ptr<float>(y) + std::size_t(x) * c;
                    for (std::size_t k = 0; k < c; ++k) rightHand[i * c + k] += w * double(value[k]);
                }
            }
        }
    }
    return system;
}

std::vector<double> ranks(const std::vector<float>& values) {
    std::vector<int> order(values.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return values[std::size_t(a)] < values[std::size_t(b)]; });
    std::vector<double> result(values.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && values[std::size_t(order[j + 1])] == values[std::size_t(order[i])]) ++j;
        const double average = (double(i) + double(j)) / 2.0 + 1.0;
        for (std::size_t k = i; k <= j; ++k) result[std::size_t(order[k])] = average;
        i = j + 1;
    }
    return result;
}

std::vector<float> flat(const cv::Mat& map) {
    const cv::Mat values = floatMap(map, map.size()).clone();
    return std::vector<float>(values.begin<float>(), values.end<float>());
}

}  // namespace

double energyPointingGame(const cv::Mat& map, const cv::Mat& mask) {
    const cv::Mat values = floatMap(map, mask.size());
    double inside = 0.0, total = 0.0;
    for (int y = 0; y < values.rows; ++y) {
        for (int x = 0; x < values.cols; ++x) {
            const double v = std::max(0.0f, values.at<float>(y, x));
            total += v;
            if (mask.at<uchar>(y, x) != 0) inside += v;
        }
    }
    return total > 0 ? inside / total : std::numeric_limits<double>::quiet_NaN();
}

PerturbationCurve deletionCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer, int pixelsPerStep) {
    const cv::Mat zeros = cv::Mat::zeros(image.size(), image.type());
    return perturbation(image, zeros, saliency, scorer, pixelsPerStep);
}

PerturbationCurve insertionCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer, int pixelsPerStep) {
    cv::Mat blurred;
    cv::GaussianBlur(image, blurred, cv::Size(11, 11), 5.0);
    return perturbation(blurred, image, saliency, scorer, pixelsPerStep);
}

cv::Mat noisyLinearImputation(const cv::Mat& image, const cv::Mat& removed, std::uint64_t seed, cv::Scalar noiseStd) {
    const char* subject = "ROAD imputation";
    if (image.empty() || image.depth() != CV_32F || image.channels() > 4) {
        throw Error(subject, "expected a float image with 1 to 4 channels");
    }
    if (removed.size() != image.size() || removed.type() != CV_8U) {
        throw Error(subject, "the removal mask must be 8-bit and the image's size");
    }
    cv::Mat result = image.clone();
    std::vector<double> rightHand;
    const GridSystem system = imputationSystem(image, removed, rightHand);
    const std::size_t n = system.cells.size(), c = std::size_t(image.channels());
    if (n == 0) return result;
    if (n == image.total()) throw Error(subject, "every pixel is removed; nothing is left to impute from");
    // Start from the mean of the kept pixels; a residual of 1e-10 leaves errors below float precision.
    std::vector<double> start(n * c);
    const cv::Scalar keptMean = cv::mean(image, removed == 0);
    for (std::size_t i = 0; i < start.size(); ++i) start[i] = keptMean[int(i % c)];
    const std::vector<double> solution = solveGridSystem(system, rightHand, int(c), std::move(start), 1e-10);
    cv::RNG rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
        float* value = result.ptr<float>(system.cells[i].y) + std::size_t(system.cells[i].x) * c;
        for (std::size_t k = 0; k < c; ++k) {
            const double noise = noiseStd[int(k)] > 0 ? rng.gaussian(noiseStd[int(k)]) : 0.0;
            value[k] = float(solution[i * c + k] + noise);
        }
    }
    return result;
}

RoadCurve roadCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer,
                    const std::vector<double>& percentages, bool mostRelevantFirst, std::uint64_t seed,
                    cv::Scalar noiseStd) {
    if (percentages.empty()) throw Error("ROAD", "no percentages to remove");
    for (const double p : percentages) {
        if (!(p >= 0.0 && p < 100.0)) throw Error("ROAD", "percentages must be in [0, 100), got " + std::to_string(p));
    }
    cv::Mat values = floatMap(saliency, image.size());
    cv::patchNaNs(values, -std::numeric_limits<float>::max());  // NaN ranks last, and sorting stays well defined
    // Descending saliency; exact ties in a seeded random order rather than by position, so a
    // flat region is not removed from the top of the image down.
    std::vector<int> shuffled(values.total());
    std::iota(shuffled.begin(), shuffled.end(), 0);
    cv::RNG tieBreak(seed ^ 0x9E3779B97F4A7C15ULL);
    for (std::size_t i = shuffled.size(); i > 1; --i) {
        std::swap(shuffled[i - 1], shuffled[std::size_t(tieBreak.uniform(0, int(i)))]);
    }
    std::vector<int> tieRank(shuffled.size());
    for (std::size_t i = 0; i < shuffled.size(); ++i) tieRank[std::size_t(shuffled[i])] = int(i);
    std::vector<int> order(values.total());
    std::iota(order.begin(), order.end(), 0);
    const float* s = values.ptr<float>();
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return s[a] != s[b] ? s[a] > s[b] : tieRank[std::size_t(a)] < tieRank[std::size_t(b)];
    });
    if (!mostRelevantFirst) std::reverse(order.begin(), order.end());

    RoadCurve curve;
    const double total = double(order.size());
    for (std::size_t i = 0; i < percentages.size(); ++i) {
        const auto count = std::size_t(std::floor(total * percentages[i] / 100.0 + 1e-9));
        cv::Mat removed = cv::Mat::zeros(image.size(), CV_8U);
        for (std::size_t k = 0; k < count; ++k) removed.data[order[k]] = 1;
        const cv::Mat imputed = noisyLinearImputation(image, removed, seed + i, noiseStd);
        curve.percent.push_back(percentages[i]);
        curve.score.push_back(scorer(imputed));
    }
    curve.meanScore = std::accumulate(curve.score.begin(), curve.score.end(), 0.0) / double(curve.score.size());
    return curve;
}

double bestThresholdIoU(const cv::Mat& map, const cv::Mat& mask) {
    const cv::Mat values = floatMap(map, mask.size());
    std::vector<float> thresholds(values.begin<float>(), values.end<float>());
    std::sort(thresholds.begin(), thresholds.end());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    const cv::Mat truth = mask != 0;
    double best = 0.0;
    for (const float t : thresholds) {
        const cv::Mat predicted = values >= t;
        const double intersection = cv::countNonZero(predicted & truth);
        const double unionCount = cv::countNonZero(predicted | truth);
        if (unionCount > 0) best = std::max(best, intersection / unionCount);
    }
    return best;
}

double spearmanCorrelation(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size()) throw Error("method agreement", "the two maps differ in size");
    const std::vector<double> ra = ranks(flat(a)), rb = ranks(flat(b));
    const double n = double(ra.size());
    const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
    double cov = 0.0, va = 0.0, vb = 0.0;
    for (std::size_t i = 0; i < ra.size(); ++i) {
        cov += (ra[i] - ma) * (rb[i] - mb);
        va += (ra[i] - ma) * (ra[i] - ma);
        vb += (rb[i] - mb) * (rb[i] - mb);
    }
    return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : std::numeric_limits<double>::quiet_NaN();
}

double topKIoU(const cv::Mat& a, const cv::Mat& b, int k) {
    if (a.size() != b.size()) throw Error("method agreement", "the two maps differ in size");
    const std::vector<float> fa = flat(a), fb = flat(b);
    if (k <= 0 || k > int(fa.size())) throw Error("method agreement", "k must be in 1..cells");
    auto top = [k](const std::vector<float>& v) {
        std::vector<int> order(v.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return v[std::size_t(x)] > v[std::size_t(y)]; });
        order.resize(std::size_t(k));
        std::sort(order.begin(), order.end());
        return order;
    };
    const std::vector<int> ta = top(fa), tb = top(fb);
    std::vector<int> common;
    std::set_intersection(ta.begin(), ta.end(), tb.begin(), tb.end(), std::back_inserter(common));
    return double(common.size()) / double(2 * k - int(common.size()));
}

}  // namespace fovea
