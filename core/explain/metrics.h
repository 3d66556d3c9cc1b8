// Metrics for explanation maps. Torch-free: models enter deletion/insertion as a scoring
// callback. Definitions follow REFERENCES (pointing game: Zhang et al. 2016; energy-based
// pointing game: Wang et al., Score-CAM, 2020; deletion/insertion: Petsiuk et al., RISE, 2018;
// ROAD: Rong et al., "A Consistent and Efficient Evaluation Strategy for Attribution Methods",
// ICML 2022).
//
//     double energy = energyPointingGame(mapAtImageSize, targetMask);        // 0..1
//     PerturbationCurve del = deletionCurve(image, mapAtImageSize, scorer, 64);
//     double auc = del.auc;
//     RoadCurve morf = roadCurve(image, mapAtImageSize, scorer, {10, 30, 50, 70, 90}, true, seed);
//     double road = morf.meanScore;                                          // lower is better
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstdint>
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

// ROAD's noisy linear imputation. `image` is float (CV_32FC1..4, in ROAD's use the model's input);
// `removed` is CV_8U of the same size, non-zero where a pixel is removed. Each removed pixel
// becomes the weighted mean of its 8 neighbours (1/6 for the four side neighbours, 1/12 for the
// four diagonal ones), with the neighbours' own values where they are kept and their imputed
// values where they are removed: a sparse linear system, solved to a relative residual of 1e-10
// (errors below float precision).
// Neighbours outside the image are left out and the remaining weights renormalised, which is
// what the reference code (tleemann/road_evaluation, NoisyLinearImputer) does: its diagonal
// entry is 1 minus the weights of the neighbours that fall outside.
//
// The system is symmetric (a neighbour's weight depends only on the offset, and offsets come in
// opposite pairs) and positive definite: it is the grid's weighted graph Laplacian restricted to
// the removed pixels, and every connected region of removed pixels touches a kept pixel unless
// all pixels are removed (refused). So even a large removed region has a unique solution, found
// here by multigrid-preconditioned conjugate gradients (grid_solver.h): about 0.2 s for 90% of a
// 224x224 image on one core.
//
// Then independent Gaussian noise with standard deviation `noiseStd` (per channel; ROAD uses
// 0.01 on [0,1] pixels) is added to the removed pixels, drawn from cv::RNG(seed).
cv::Mat noisyLinearImputation(const cv::Mat& image, const cv::Mat& removed, std::uint64_t seed,
                              cv::Scalar noiseStd = cv::Scalar::all(0.01));

struct RoadCurve {
    std::vector<double> percent;  // of pixels removed, as asked for
    std::vector<double> score;    // the scorer's value on each imputed image
    // The mean of `score` over the percentages: the average of the curve the ROAD paper plots
    // (not a trapezoid; with evenly spaced percentages the two differ only at the ends).
    double meanScore = 0.0;
};

// ROAD (remove and debias): for each p in `percentages` (0 <= p < 100), removes the
// floor(p% of the pixels) with the highest saliency (MoRF, mostRelevantFirst) or the lowest
// (LeRF), fills them with noisyLinearImputation and scores the result. The saliency is resized
// bilinearly to the image; exact ties are broken in a random order drawn from `seed` (the
// reference adds 1e-4 noise to the map for the same purpose). The reference's LeRF at th_p
// removes the pixels ranked after th_p, i.e. 1 - th_p of them, and its plots flip that axis;
// here p is always the share removed. Each percentage's noise comes from its own seed.
// A faithful method gives a low MoRF and a high LeRF mean score.
RoadCurve roadCurve(const cv::Mat& image, const cv::Mat& saliency, const ImageScorer& scorer,
                    const std::vector<double>& percentages = {10, 20, 30, 40, 50, 60, 70, 80, 90},
                    bool mostRelevantFirst = true, std::uint64_t seed = 0, cv::Scalar noiseStd = cv::Scalar::all(0.01));

// IoU of (map >= t) with the mask at the best threshold t among the map's distinct values.
double bestThresholdIoU(const cv::Mat& map, const cv::Mat& mask);

// Agreement between two maps of the same size (agreement is not correctness).
double spearmanCorrelation(const cv::Mat& a, const cv::Mat& b);  // ties get average ranks
double topKIoU(const cv::Mat& a, const cv::Mat& b, int k);       // IoU of the k largest cells

}  // namespace fovea
