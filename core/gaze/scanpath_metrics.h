// Scanpath comparison beyond MultiMatch: ScanMatch, string edit distance on a grid, dynamic time
// warping, the discrete Fréchet distance and the sequence score.
//
//     fovea::ScanMatchOptions grid;                 // 12 x 8 cells over the screen
//     grid.screen = {1280, 720};
//     double similarity = fovea::scanMatch(pathA, pathB, grid);       // 1 = identical sequences
//     int edits = fovea::stringEditDistance(pathA, pathB, {1280, 720}, 5, 5);
//     double dtw = fovea::dynamicTimeWarping(pathA.points(), pathB.points());
//     fovea::FixationClusters clusters = fovea::meanShiftClusters(allHumanFixations, 50.0);
//     double ss = fovea::sequenceScore(pathA, pathB, clusters);
#pragma once

#include "core/gaze/gaze_data.h"

#include <functional>
#include <string>
#include <vector>

namespace fovea {

// Needleman & Wunsch (1970) global alignment score of two symbol sequences with a substitution
// score and a constant gap score.
double needlemanWunsch(const std::vector<int>& a, const std::vector<int>& b,
                       const std::function<double(int, int)>& substitution, double gap);

// Grid cell of a point: row * columns + column, cells of (screen / bins) pixels; points outside
// the screen go to the nearest edge cell.
int gridCell(cv::Point2d point, cv::Size2d screen, int columns, int rows);

struct ScanMatchOptions {
    cv::Size2d screen{1280.0, 720.0};
    int columns = 12, rows = 8;  // Xbin, Ybin
    double threshold = 3.5;      // cells: the distance at which substitution turns negative
    double gap = 0.0;
    double temporalBin = 0.0;  // seconds; > 0 repeats each fixation round(duration / bin) times
};

// ScanMatch (Cristino et al., Behavior Research Methods 2010): fixations as grid-cell letters,
// substitution S = |D − maxD| − (maxD − threshold) with D the distance between cells (in cells),
// Needleman-Wunsch, normalised by max(S) · max(n, m). 1 for identical sequences; NaN when empty.
double scanMatch(const Scanpath& a, const Scanpath& b, const ScanMatchOptions& options = {});
// The substitution matrix (cells x cells) ScanMatch uses.
std::vector<std::vector<double>> scanMatchSubstitution(const ScanMatchOptions& options);

// Levenshtein distance with unit costs between the grid-cell strings of two scanpaths (Brandt &
// Stark 1997 use 5x5 cells; Foulsham & Underwood 2008 12x8).
int stringEditDistance(const Scanpath& a, const Scanpath& b, cv::Size2d screen, int columns = 5, int rows = 5);
int levenshteinDistance(const std::vector<int>& a, const std::vector<int>& b);

// Dynamic time warping (Sakoe & Chiba 1978) with Euclidean point distances: the least sum of
// distances along a monotone warping path from the first pair to the last.
double dynamicTimeWarping(const std::vector<cv::Point2d>& a, const std::vector<cv::Point2d>& b);
// Discrete Fréchet distance (Eiter & Mannila 1994): the least, over monotone couplings, of the
// largest distance between coupled points.
double discreteFrechetDistance(const std::vector<cv::Point2d>& a, const std::vector<cv::Point2d>& b);

// Mean-shift modes of a set of fixations (Comaniciu & Meer 2002, flat kernel of radius
// `bandwidth`, seeded at every point as scikit-learn's MeanShift; modes closer than the bandwidth
// merge, the one covering more points kept). Used to turn scanpaths into strings of regions.
struct FixationClusters {
    std::vector<cv::Point2d> centres;
    int labelOf(cv::Point2d point) const;  // the nearest centre
};
FixationClusters meanShiftClusters(const std::vector<cv::Point2d>& points, double bandwidth);

// Sequence score (Yang et al., "Predicting goal-directed human attention using inverse
// reinforcement learning", CVPR 2020): both scanpaths as strings of cluster labels, Needleman-
// Wunsch with match 1, mismatch 0, gap 0, divided by the longer length. NaN when both are empty.
double sequenceScore(const Scanpath& a, const Scanpath& b, const FixationClusters& clusters);

}  // namespace fovea
