// MultiMatch (Jarodzka, Holmqvist & Nyström, "A vector-based, multidimensional scanpath
// similarity measure", ETRA 2010; Dewhurst et al. 2012), computed as the MATLAB toolbox and its
// Python port adswa/multimatch_gaze do: five similarities in [0, 1] between two scanpaths.
//
//     fovea::MultiMatchOptions options;
//     options.screen = {1280, 720};
//     options.grouping = true;                  // simplify first (TDir 45°, TDur 0.3 s, TAmp 146.8 px)
//     options.directionThreshold = 45.0;
//     options.durationThreshold = 0.3;
//     options.amplitudeThreshold = 146.8;
//     fovea::MultiMatchResult r = fovea::multiMatch(pathA, pathB, options);
//     // r.vector, r.direction, r.length, r.position, r.duration; NaN when a path has < 3 fixations
//
// Steps: saccade vectors between consecutive fixations; optional simplification (consecutive
// saccades merge when the angle between them is below TDir, or when they are shorter than TAmp,
// and the fixation between is shorter than TDur), repeated as the reference does; alignment by the
// cheapest path through M[i][j] = |v1_i − v2_j| moving right, down or diagonally; medians of the
// differences along that path, normalised by the screen diagonal (twice it for vectors), π and
// the larger duration.
#pragma once

#include "core/gaze/gaze_data.h"

#include <array>
#include <utility>
#include <vector>

namespace fovea {

struct MultiMatchOptions {
    cv::Size2d screen{1280.0, 720.0};  // pixels; only the diagonal enters
    bool grouping = false;
    double directionThreshold = 0.0;  // TDir, degrees
    double durationThreshold = 0.0;   // TDur, seconds
    double amplitudeThreshold = 0.0;  // TAmp, pixels
};

struct MultiMatchResult {
    double vector = 0.0, direction = 0.0, length = 0.0, position = 0.0, duration = 0.0;
    bool valid = false;  // false (and all NaN) when a scanpath has fewer than 3 fixations
    std::array<double, 5> values() const { return {vector, direction, length, position, duration}; }
};

// The vector representation MultiMatch aligns: saccade i starts at (x[i], y[i]), moves by
// (dx[i], dy[i]); durations[i] is the fixation before it. After simplification durations may
// hold one entry more than the reference keeps in step with (it is copied as is).
struct SaccadeVectors {
    std::vector<double> x, y, dx, dy, rho, theta;
    std::vector<double> durations;
    std::size_t size() const { return dx.size(); }
};

SaccadeVectors saccadeVectors(const Scanpath& scanpath);
// Direction then length merging, repeated until the pass count reaches the number of durations
// (the reference's stopping rule; it also stops once a pass changes nothing).
SaccadeVectors simplifySaccades(SaccadeVectors vectors, const MultiMatchOptions& options);
// The aligned saccade pairs (i, j), from (0, 0) to (n − 1, m − 1).
std::vector<std::pair<int, int>> alignSaccades(const SaccadeVectors& a, const SaccadeVectors& b);

MultiMatchResult multiMatch(const Scanpath& a, const Scanpath& b, const MultiMatchOptions& options = {});

}  // namespace fovea
