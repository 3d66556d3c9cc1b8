#include "core/explain/pointing_game.h"

#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <limits>

namespace fovea {

cv::Point pointedPixel(const cv::Mat& map, cv::Size size) {
    if (map.empty() || map.type() != CV_32F) throw Error("pointing game: the map must be a non-empty float32 matrix");
    cv::Mat resized;
    cv::resize(map, resized, size, 0, 0, cv::INTER_LINEAR);
    cv::Point best(0, 0);
    float bestValue = -std::numeric_limits<float>::infinity();
    for (int y = 0; y < resized.rows; ++y) {
        const float* row = resized.ptr<float>(y);
        for (int x = 0; x < resized.cols; ++x) {
            if (row[x] > bestValue) {
                bestValue = row[x];
                best = {x, y};
            }
        }
    }
    return best;
}

bool pointingHit(const cv::Mat& map, const cv::Mat& mask, double tolerancePixels) {
    if (mask.empty() || mask.type() != CV_8U) throw Error("pointing game: the mask must be a non-empty 8-bit matrix");
    const cv::Point point = pointedPixel(map, mask.size());
    if (mask.at<uchar>(point) != 0) return true;
    if (tolerancePixels <= 0.0) return false;
    // Distance from every pixel to the nearest mask pixel.
    cv::Mat outside = (mask == 0);
    cv::Mat distance;
    cv::distanceTransform(outside, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    return distance.at<float>(point) <= tolerancePixels;
}

void PointingGame::add(int classIndex, bool hit) {
    if (classIndex < 0 || classIndex >= int(m_total.size())) throw Error("pointing game: class index out of range");
    m_total[std::size_t(classIndex)] += 1;
    m_hits[std::size_t(classIndex)] += hit ? 1 : 0;
}

double PointingGame::meanAccuracy() const {
    double sum = 0.0;
    int classes = 0;
    for (std::size_t i = 0; i < m_total.size(); ++i) {
        if (m_total[i] == 0) continue;
        sum += double(m_hits[i]) / m_total[i];
        ++classes;
    }
    return classes ? sum / classes : 0.0;
}

double PointingGame::overallAccuracy() const {
    int hits = 0, total = 0;
    for (std::size_t i = 0; i < m_total.size(); ++i) {
        hits += m_hits[i];
        total += m_total[i];
    }
    return total ? double(hits) / total : 0.0;
}

int PointingGame::count() const {
    int total = 0;
    for (int t : m_total) total += t;
    return total;
}

}  // namespace fovea
