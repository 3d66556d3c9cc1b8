// Internal helpers the saliency metrics share (saliency_auc.cpp, saliency_metrics.cpp): checks,
// fixation pixel indices, a reproducible random stream, and one-pass map statistics so that
// scoreSaliency reads each map as few times as it can. Not part of the public core surface.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace fovea::saliency_detail {

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

void checkMap(const cv::Mat1f& map, const char* what);
void checkSameSize(const cv::Mat1f& a, const cv::Mat1f& b, const char* what);
// Row-major pixel index of each fixation (floor of x and y); throws for one outside the map.
std::vector<int> fixationIndices(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, const char* what);
// The map's pixels as one array (a copy kept in `keep` only when the map is not continuous).
const float* pixels(const cv::Mat1f& map, cv::Mat1f& keep);

// Minimum, maximum, mean and population standard deviation in one pass.
struct MapStats {
    double low = 0.0, high = 0.0, sum = 0.0, mean = 0.0, std = 0.0;
    std::size_t count = 0;
};
MapStats mapStats(const float* values, std::size_t count);

// AUC-Borji on a map known by its pixels and range (the map is min-max scaled on the fly).
double aucBorjiFrom(const float* values, std::size_t count, double low, double high, const std::vector<int>& fixated,
                    int splits, double step, std::uint64_t seed);

}  // namespace fovea::saliency_detail
