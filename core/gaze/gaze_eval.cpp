#include "core/gaze/gaze_eval.h"

#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <map>

namespace fovea {
namespace {

double densitySigma(const SaliencyOptions& options, cv::Size size) {
    return options.sigma > 0 ? options.sigma : std::max(size.width, size.height) / 30.0;
}

std::map<std::string, std::vector<cv::Point2d>> fixationsBySubject(const GazeDataset& data, const std::string& image) {
    std::map<std::string, std::vector<cv::Point2d>> bySubject;
    for (const Scanpath& path : data.scanpathsOf(image)) {
        std::vector<cv::Point2d>& points = bySubject[path.subject];
        for (const Fixation& f : path.fixations) points.emplace_back(f.x, f.y);
    }
    return bySubject;
}

}  // namespace

std::vector<SubjectScores> scoreSubjects(const cv::Mat1f& map, const GazeDataset& data, const std::string& image,
                                         const SaliencyOptions& options, const std::vector<cv::Point2d>* given) {
    const std::vector<cv::Point2d> others = given ? *given : data.fixationsOffExcept(image);
    std::vector<SubjectScores> result;
    for (const auto& [subject, points] : fixationsBySubject(data, image)) {
        if (points.empty()) continue;
        const cv::Mat1f density = fixationDensityMap(map.size(), points, densitySigma(options, map.size()));
        result.push_back({subject, scoreSaliency(map, points, options, density, {}, others)});
    }
    return result;
}

std::vector<SaliencyScores> scoresOf(const std::vector<SubjectScores>& subjects) {
    std::vector<SaliencyScores> scores;
    for (const SubjectScores& s : subjects) scores.push_back(s.scores);
    return scores;
}

SaliencyScores meanScores(const std::vector<SaliencyScores>& scores) {
    const std::size_t metrics = saliencyMetricNames().size();
    std::vector<double> sums(metrics, 0.0);
    std::vector<int> counts(metrics, 0);
    SaliencyScores mean;
    for (const SaliencyScores& s : scores) {
        const std::vector<double> values = saliencyMetricValues(s);
        for (std::size_t i = 0; i < metrics; ++i) {
            if (std::isnan(values[i])) continue;
            sums[i] += values[i];
            ++counts[i];
        }
        mean.fixations += s.fixations;
    }
    double* fields[] = {&mean.aucJudd, &mean.aucBorji, &mean.aucShuffled, &mean.nss,
                        &mean.cc,      &mean.kld,      &mean.sim,         &mean.informationGain};
    for (std::size_t i = 0; i < metrics; ++i) *fields[i] = counts[i] > 0 ? sums[i] / counts[i] : std::nan("");
    return mean;
}

SaliencyScores interObserverScores(const GazeDataset& data, const std::string& image, cv::Size size,
                                   const SaliencyOptions& options, const std::vector<cv::Point2d>* given) {
    const auto bySubject = fixationsBySubject(data, image);
    if (bySubject.size() < 2) {
        SaliencyScores none = meanScores({});
        return none;
    }
    const double sigma = densitySigma(options, size);
    const std::vector<cv::Point2d> others = given ? *given : data.fixationsOffExcept(image);
    std::vector<SaliencyScores> scores;
    for (const auto& [subject, points] : bySubject) {
        if (points.empty()) continue;
        std::vector<cv::Point2d> rest;
        for (const auto& [other, otherPoints] : bySubject) {
            if (other != subject) rest.insert(rest.end(), otherPoints.begin(), otherPoints.end());
        }
        if (rest.empty()) continue;
        const cv::Mat1f othersMap = fixationDensityMap(size, rest, sigma);
        const cv::Mat1f ownDensity = fixationDensityMap(size, points, sigma);
        scores.push_back(scoreSaliency(othersMap, points, options, ownDensity, {}, others));
    }
    return meanScores(scores);
}

std::vector<cv::Point2d> otherFixationsScaled(const GazeDataset& data, const std::string& image, cv::Size size) {
    std::vector<cv::Point2d> points;
    for (const std::string& other : data.stimuli()) {
        if (other == image) continue;
        const std::optional<cv::Size> own = data.imageSize(other);
        const double sx = own ? double(size.width) / own->width : 1.0,
                     sy = own ? double(size.height) / own->height : 1.0;
        for (const Scanpath& path : data.scanpathsOf(other)) {
            for (const Fixation& f : path.fixations) points.emplace_back(f.x * sx, f.y * sy);
        }
    }
    return points;
}

cv::Mat1f viewMapToImage(const cv::Mat& map, const Preprocessing& preprocessing, cv::Size imageSize) {
    if (map.empty()) throw Error("view map", "the map is empty");
    if (imageSize.width <= 0 || imageSize.height <= 0) throw Error("view map", "the image size must be positive");
    cv::Mat1f grid;
    map.convertTo(grid, CV_32F);
    cv::patchNaNs(grid, 0.0);
    const cv::Size resized = preprocessing.resizedSize(imageSize);
    const cv::Rect window = preprocessing.cropWindow(resized);  // the model's view, in resized pixels
    cv::Mat1f atView;
    cv::resize(grid, atView, window.size(), 0, 0, cv::INTER_LINEAR);
    double low = 0.0;
    cv::minMaxLoc(atView, &low, nullptr);
    cv::Mat1f canvas(resized, float(low));
    // The crop window in resized coordinates may reach past the resized image (padding).
    const cv::Rect inside = window & cv::Rect(cv::Point(0, 0), resized);
    if (inside.area() > 0) atView(inside - window.tl()).copyTo(canvas(inside));
    if (resized == imageSize) return canvas;
    cv::Mat1f onImage;
    cv::resize(canvas, onImage, imageSize, 0, 0, cv::INTER_LINEAR);
    return onImage;
}

}  // namespace fovea

namespace fovea {

cv::Mat1i viewLabelsToImage(const cv::Mat1i& labels, const Preprocessing& preprocessing, cv::Size imageSize) {
    if (labels.empty()) throw Error("view labels", "the label mask is empty");
    const cv::Size resized = preprocessing.resizedSize(imageSize);
    const cv::Rect window = preprocessing.cropWindow(resized);
    cv::Mat1i atView;
    cv::resize(labels, atView, window.size(), 0, 0, cv::INTER_NEAREST);
    cv::Mat1i canvas(resized, 0);
    const cv::Rect inside = window & cv::Rect(cv::Point(0, 0), resized);
    if (inside.area() > 0) atView(inside - window.tl()).copyTo(canvas(inside));
    if (resized == imageSize) return canvas;
    cv::Mat1i onImage;
    cv::resize(canvas, onImage, imageSize, 0, 0, cv::INTER_NEAREST);
    return onImage;
}

}  // namespace fovea
