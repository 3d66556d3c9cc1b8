#include "core/explain/metrics.h"

#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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
