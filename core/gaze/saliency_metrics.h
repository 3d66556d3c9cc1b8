// How well a saliency map (a model's heatmap over the image) predicts where people fixated: the
// metrics of the MIT / Tübingen saliency benchmark (Bylinskii et al., "What do different
// evaluation metrics tell us about saliency models?", TPAMI 2019; Kümmerer et al., "Information-
// theoretic model comparison unifies saliency metrics", PNAS 2015), and fixation density maps.
//
//     cv::Mat1f map = ...;                                   // the model's map at image size
//     std::vector<cv::Point2d> fixations = data.fixationsOn("cat.jpg");
//     cv::Mat1f density = fovea::fixationDensityMap(map.size(), fixations, /*sigma px*/ 35.0);
//     double nss = fovea::normalizedScanpathSaliency(map, fixations);
//     double cc = fovea::correlationCoefficient(map, density);
//     fovea::SaliencyScores all = fovea::scoreSaliency(map, fixations, {});   // every metric
//
// A fixation at (x, y) counts on pixel (floor x, floor y); fixations outside the map throw.
// Map-against-map metrics (CC, KLD, SIM) take maps of one size.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

// MATLAB's eps, which the MIT benchmark code adds to avoid log(0) and x/0.
inline constexpr double kSaliencyEpsilon = 2.2204e-16;

// Repeated fixations on one pixel: the MIT code builds a binary fixation map (a pixel counts
// once); pysaliency and Fovea's default count each fixation.
enum class RepeatedFixations { Count, Collapse };

// AUC-Judd (Judd et al. 2009 as coded in the MIT benchmark): thresholds at the map's values on the
// fixated pixels, TP = share of fixations at or above, FP = share of non-fixated pixels at or
// above; trapezoid area with (0,0) and (1,1) added. With Count, each fixation weighs one and a
// repeated pixel's threshold is taken once; with Collapse, each fixated pixel weighs one.
// `jitter` > 0 adds uniform noise of that size (relative to the map's range, 1e-7 in the MIT
// code) to break ties, from `seed`.
double aucJudd(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
               RepeatedFixations repeats = RepeatedFixations::Count, double jitter = 0.0, std::uint64_t seed = 0);

// pysaliency's per-fixation AUC against every pixel of the map (its AUCs with uniform
// nonfixations): the share of pixels below the fixated value, ties counting half.
std::vector<double> fixationAucs(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations);

// AUC-Borji (Borji et al. 2013, MIT code): the map min-max scaled; negatives are as many uniformly
// drawn pixels as there are fixations; thresholds from 0 to the largest value in `step`s; the
// mean area over `splits` draws.
double aucBorji(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations, int splits = 100, double step = 0.1,
                std::uint64_t seed = 0);

// Shuffled AUC (Zhang et al. 2008, MIT code): as Borji, with negatives drawn without replacement
// from the fixations on other images (`otherFixations`, in this map's pixels).
double aucShuffled(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                   const std::vector<cv::Point2d>& otherFixations, int splits = 100, double step = 0.1,
                   std::uint64_t seed = 0);

// NSS (Peters et al. 2005): the map standardised, (P − mean) / std, averaged over fixations.
// The standard deviation divides by N (pysaliency, numpy) with Population and by N − 1 (MATLAB
// std, the MIT code) with Sample. A constant map scores 0.
enum class StdConvention { Population, Sample };
std::vector<double> nssValues(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                              StdConvention convention = StdConvention::Population);
double normalizedScanpathSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                                  StdConvention convention = StdConvention::Population);

// CC: Pearson correlation of the map and the fixation density map; 0 when either is constant.
double correlationCoefficient(const cv::Mat1f& map, const cv::Mat1f& density);

// KLD (MIT): both scaled to sum 1, Σ Q log(ε + Q / (P + ε)) in nats, Q the density (ground truth).
double klDivergence(const cv::Mat1f& map, const cv::Mat1f& density);

// SIM (Swain & Ballard's histogram intersection): Σ min(P, Q) after each is made a distribution.
// Tuebingen (pysaliency, the default): shifted to be non-negative when it has negative values,
// then scaled to sum 1. Mit: min-max scaled to [0, 1] first (a constant map is left as it is).
enum class SimConvention { Tuebingen, Mit };
double similarity(const cv::Mat1f& map, const cv::Mat1f& density, SimConvention convention = SimConvention::Tuebingen);

// Information gain (Kümmerer et al. 2015, MIT code): both maps min-max scaled and made
// distributions, mean over fixations of log2(ε + P) − log2(ε + B), in bits per fixation; B is the
// baseline (the centre bias map, or the fixations of other images blurred).
double informationGain(const cv::Mat1f& map, const cv::Mat1f& baseline, const std::vector<cv::Point2d>& fixations);

// The fixations blurred with a Gaussian of `sigma` pixels: Σ_f exp(−d²/2σ²) over fixated pixel
// centres, truncated at 4σ, zero outside the image (a fixation map convolved with zero padding).
// Each fixation weighs one, repeats included. Not normalised.
cv::Mat1f fixationDensityMap(cv::Size size, const std::vector<cv::Point2d>& fixations, double sigma);

// Pixels per degree of visual angle for a screen `screenWidthPixels` wide and `screenWidthCm`
// wide seen from `distanceCm` (one degree around the centre).
double pixelsPerDegree(double screenWidthPixels, double screenWidthCm, double distanceCm);

// A centre-bias baseline: an isotropic Gaussian at the image centre with sigma = `sigmaFraction`
// of the larger side, peak 1.
cv::Mat1f centreBiasMap(cv::Size size, double sigmaFraction = 0.25);

struct SaliencyOptions {
    double sigma = 0.0;  // density blur in pixels; 0 => 1/30 of the larger side (~1 degree)
    int splits = 100;    // AUC-Borji and sAUC draws
    double step = 0.1;   // their threshold step
    std::uint64_t seed = 0;
    RepeatedFixations repeats = RepeatedFixations::Count;
    StdConvention nssStd = StdConvention::Population;
    SimConvention sim = SimConvention::Tuebingen;
};

struct SaliencyScores {
    double aucJudd = 0.0, aucBorji = 0.0, aucShuffled = 0.0, nss = 0.0, cc = 0.0, kld = 0.0, sim = 0.0,
           informationGain = 0.0;
    int fixations = 0;
};

// The names and values in one fixed order ("auc_judd", "auc_borji", "sauc", "nss", "cc", "kld",
// "sim", "ig") for tables.
std::vector<const char*> saliencyMetricNames();
std::vector<double> saliencyMetricValues(const SaliencyScores& scores);

// Every metric. `density` and `baseline` may be empty (then they are computed: the fixations
// blurred with options.sigma, the centre bias map); sAUC is NaN without `otherFixations`.
SaliencyScores scoreSaliency(const cv::Mat1f& map, const std::vector<cv::Point2d>& fixations,
                             const SaliencyOptions& options, const cv::Mat1f& density = {},
                             const cv::Mat1f& baseline = {}, const std::vector<cv::Point2d>& otherFixations = {});

}  // namespace fovea
