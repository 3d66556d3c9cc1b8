// Metrics for explanation maps. Torch-free: models enter deletion/insertion as a scoring
// callback. Definitions follow REFERENCES (pointing game: Zhang et al. 2016; energy-based
// pointing game: Wang et al., Score-CAM, 2020; deletion/insertion: Petsiuk et al., RISE, 2018).
//
//     double energy = energyPointingGame(mapAtImageSize, targetMask);        // 0..1
//     PerturbationCurve del = deletionCurve(image, mapAtImageSize, scorer, 64);
//     double auc = del.auc;
#pragma once

#include <opencv2/core/mat.hpp>

#include <functional>
#include <vector>

namespace fovea {

// Σ map inside the mask / Σ map, with the map upsampled bilinearly to the mask's size and
// negative values clamped to zero (as Score-CAM's code does). NaN when the map sums to zero.
double energyPointingGame(const cv::Mat& map, const cv::Mat& mask);

struct PerturbationCurve {
    std::vector<double> fraction;  // of pixels changed, 0..1
    std::vector<double> score;     // the scorer's value at each step
    double auc = 0.0;              // (Σ a_i − a_0/2 − a_n/2) / (n − 1): trapezoid over [0, 1]
};

// Scores an image (CV_32FC3 or CV_8UC3, the same size as the input).
using ImageScorer = std::function<double(const cv::Mat& image)>;

// RISE deletion: pixels in order of descending saliency are set to zero, `pixelsPerStep` at a
// time (ties broken by position); the scorer sees every intermediate image.
PerturbationCurve deletionCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer,
                                int pixelsPerStep);
// RISE insertion: start from the image blurred with a Gaussian (kernel 11, sigma 5) and put
// the original pixels back in order of descending saliency.
PerturbationCurve insertionCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer,
                                 int pixelsPerStep);

// IoU of (map >= t) with the mask at the best threshold t among the map's distinct values.
double bestThresholdIoU(const cv::Mat& map, const cv::Mat& mask);

// Agreement between two maps of the same size (agreement is not correctness).
double spearmanCorrelation(const cv::Mat& a, const cv::Mat& b);  // ties get average ranks
double topKIoU(const cv::Mat& a, const cv::Mat& b, int k);       // IoU of the k largest cells

}  // namespace fovea
