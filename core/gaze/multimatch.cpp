#include "core/gaze/multimatch.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {
namespace {

void pushSaccade(SaccadeVectors& to, double x, double y, double dx, double dy) {
    to.x.push_back(x);
    to.y.push_back(y);
    to.dx.push_back(dx);
    to.dy.push_back(dy);
    to.rho.push_back(std::hypot(dx, dy));
    to.theta.push_back(std::atan2(dy, dx));
}

void keepSaccade(SaccadeVectors& to, const SaccadeVectors& from, std::size_t i) {
    to.x.push_back(from.x[i]);
    to.y.push_back(from.y[i]);
    to.dx.push_back(from.dx[i]);
    to.dy.push_back(from.dy[i]);
    to.rho.push_back(from.rho[i]);
    to.theta.push_back(from.theta[i]);
    to.durations.push_back(from.durations[i]);
}

// Angle between two saccades in degrees (NaN for a zero-length one, which never merges).
double angleBetween(double ax, double ay, double bx, double by) {
    const double cosine = (ax * bx + ay * by) / (std::hypot(ax, ay) * std::hypot(bx, by));
    return std::acos(std::clamp(cosine, -1.0, 1.0)) * 180.0 / M_PI;
}

// One pass of merging by direction (multimatch_gaze's simdir).
SaccadeVectors mergeByDirection(const SaccadeVectors& path, double thresholdDegrees, double thresholdDuration) {
    const std::size_t n = path.size();
    if (n < 1) return path;
    SaccadeVectors merged;
    for (std::size_t i = 0; i < n;) {
        const double angle = i + 1 < n ? angleBetween(path.dx[i], path.dy[i], path.dx[i + 1], path.dy[i + 1])
                                       : std::numeric_limits<double>::infinity();
        if (angle < thresholdDegrees && i + 1 < n && path.durations[i + 1] < thresholdDuration) {
            pushSaccade(merged, path.x[i], path.y[i], path.dx[i] + path.dx[i + 1], path.dy[i] + path.dy[i + 1]);
            merged.durations.push_back(path.durations[i]);
            i += 2;
        } else {
            keepSaccade(merged, path, i);
            ++i;
        }
    }
    merged.durations.push_back(path.durations.back());
    return merged;
}

// One pass of merging short saccades (multimatch_gaze's simlen), quirks included: a short last
// saccade replaces the previous merged vector with the sum of the input's last two saccades.
SaccadeVectors mergeByLength(const SaccadeVectors& path, double thresholdAmplitude, double thresholdDuration) {
    const std::size_t n = path.size();
    if (n < 1) return path;
    SaccadeVectors merged;
    const std::vector<double>& durations = path.durations;
    for (std::size_t i = 0; i < n;) {
        if (i + 1 == n) {
            const bool shortFixation = durations.back() < thresholdDuration ||
                                       (durations.size() >= 2 && durations[durations.size() - 2] < thresholdDuration);
            // The reference indexes the previous merged saccade here; with none it would fail, so keep it.
            if (path.rho[i] < thresholdAmplitude && shortFixation && merged.size() > 0 && n >= 2) {
                const double dx = path.dx[n - 2] + path.dx[n - 1], dy = path.dy[n - 2] + path.dy[n - 1];
                const std::size_t last = merged.size() - 1;
                merged.dx[last] = dx;
                merged.dy[last] = dy;
                merged.rho[last] = std::hypot(dx, dy);
                merged.theta[last] = std::atan2(dy, dx);
                merged.durations.push_back(durations[i - 1]);
                ++i;
            } else {
                keepSaccade(merged, path, i);
                ++i;
            }
        } else if (path.rho[i] < thresholdAmplitude &&
                   (durations[i + 1] < thresholdDuration || durations[i] < thresholdDuration)) {
            pushSaccade(merged, path.x[i], path.y[i], path.dx[i] + path.dx[i + 1], path.dy[i] + path.dy[i + 1]);
            merged.durations.push_back(durations[i]);
            i += 2;
        } else {
            keepSaccade(merged, path, i);
            ++i;
        }
    }
    merged.durations.push_back(durations.back());
    return merged;
}

bool sameVectors(const SaccadeVectors& a, const SaccadeVectors& b) {
    return a.x == b.x && a.y == b.y && a.dx == b.dx && a.dy == b.dy && a.durations == b.durations;
}

double medianOf(std::vector<double> values) {
    if (values.empty()) return std::nan("");
    for (const double v : values) {
        if (std::isnan(v)) return v;  // numpy's median propagates NaN
    }
    const std::size_t middle = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(middle), values.end());
    const double upper = values[middle];
    if (values.size() % 2 == 1) return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + std::ptrdiff_t(middle));
    return (lower + upper) / 2.0;
}

// Direction as the reference measures it: angles moved to [0, 2π), difference folded to [0, π].
double angleDifference(double a, double b) {
    if (a < 0) a += 2.0 * M_PI;
    if (b < 0) b += 2.0 * M_PI;
    double difference = std::abs(a - b);
    if (difference > M_PI) difference = 2.0 * M_PI - difference;
    return difference;
}

}  // namespace

SaccadeVectors saccadeVectors(const Scanpath& scanpath) {
    SaccadeVectors vectors;
    const std::vector<Fixation>& f = scanpath.fixations;
    for (std::size_t i = 0; i + 1 < f.size(); ++i)
        pushSaccade(vectors, f[i].x, f[i].y, f[i + 1].x - f[i].x, f[i + 1].y - f[i].y);
    for (const Fixation& fixation : f) vectors.durations.push_back(fixation.duration);
    return vectors;
}

SaccadeVectors simplifySaccades(SaccadeVectors vectors, const MultiMatchOptions& options) {
    // The reference loops until its pass count equals the number of durations. A pass that
    // changes nothing is a fixed point, so stopping there returns what the reference returns
    // (and stops where the reference, its count already past the length, would loop forever).
    for (std::size_t pass = 1;; ++pass) {
        SaccadeVectors next = mergeByDirection(vectors, options.directionThreshold, options.durationThreshold);
        next = mergeByLength(next, options.amplitudeThreshold, options.durationThreshold);
        const bool unchanged = sameVectors(next, vectors);
        vectors = std::move(next);
        if (unchanged || pass == vectors.durations.size()) return vectors;
    }
}

std::vector<std::pair<int, int>> alignSaccades(const SaccadeVectors& a, const SaccadeVectors& b) {
    const int n = int(a.size()), m = int(b.size());
    if (n == 0 || m == 0) return {};
    // The reference runs Dijkstra over the grid graph whose edges into (i, j) weigh M[i][j]; on
    // this DAG (moves right, down, diagonal) dynamic programming finds the same cheapest path.
    std::vector<double> cost(std::size_t(n) * std::size_t(m));
    const auto at = [&](int i, int j) -> double& { return cost[std::size_t(i) * std::size_t(m) + std::size_t(j)]; };
    const auto weight = [&](int i, int j) {
        return std::hypot(a.dx[std::size_t(i)] - b.dx[std::size_t(j)], a.dy[std::size_t(i)] - b.dy[std::size_t(j)]);
    };
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < m; ++j) {
            if (i == 0 && j == 0) {
                at(0, 0) = 0.0;
                continue;
            }
            double best = std::numeric_limits<double>::infinity();
            if (i > 0 && j > 0) best = std::min(best, at(i - 1, j - 1));
            if (i > 0) best = std::min(best, at(i - 1, j));
            if (j > 0) best = std::min(best, at(i, j - 1));
            at(i, j) = best + weight(i, j);
        }
    }
    std::vector<std::pair<int, int>> path{{n - 1, m - 1}};
    int i = n - 1, j = m - 1;
    while (i > 0 || j > 0) {
        // Prefer the diagonal, then up, then left, among equally cheap predecessors.
        int bestI = -1, bestJ = -1;
        double best = std::numeric_limits<double>::infinity();
        const std::pair<int, int> candidates[] = {{i - 1, j - 1}, {i - 1, j}, {i, j - 1}};
        for (const auto& [ci, cj] : candidates) {
            if (ci < 0 || cj < 0) continue;
            if (at(ci, cj) < best) {
                best = at(ci, cj);
                bestI = ci;
                bestJ = cj;
            }
        }
        i = bestI;
        j = bestJ;
        path.emplace_back(i, j);
    }
    std::reverse(path.begin(), path.end());
    return path;
}

MultiMatchResult multiMatch(const Scanpath& first, const Scanpath& second, const MultiMatchOptions& options) {
    MultiMatchResult result;
    if (first.fixations.size() < 3 || second.fixations.size() < 3) {
        result.vector = result.direction = result.length = result.position = result.duration = std::nan("");
        return result;
    }
    SaccadeVectors a = saccadeVectors(first), b = saccadeVectors(second);
    if (options.grouping) {
        a = simplifySaccades(std::move(a), options);
        b = simplifySaccades(std::move(b), options);
    }
    const std::vector<std::pair<int, int>> path = alignSaccades(a, b);
    std::vector<double> vectorDiff, angleDiff, lengthDiff, positionDiff, durationDiff;
    for (const auto& [ii, jj] : path) {
        const std::size_t i = std::size_t(ii), j = std::size_t(jj);
        vectorDiff.push_back(std::hypot(a.dx[i] - b.dx[j], a.dy[i] - b.dy[j]));
        angleDiff.push_back(angleDifference(a.theta[i], b.theta[j]));
        lengthDiff.push_back(std::abs(a.rho[i] - b.rho[j]));
        positionDiff.push_back(std::hypot(a.x[i] - b.x[j], a.y[i] - b.y[j]));
        const double d1 = a.durations[i], d2 = b.durations[j];
        durationDiff.push_back(std::abs(d1 - d2) / std::abs(std::max(d1, d2)));
    }
    const double diagonal = std::hypot(options.screen.width, options.screen.height);
    result.vector = 1.0 - medianOf(vectorDiff) / (2.0 * diagonal);
    result.direction = 1.0 - medianOf(angleDiff) / M_PI;
    result.length = 1.0 - medianOf(lengthDiff) / diagonal;
    result.position = 1.0 - medianOf(positionDiff) / diagonal;
    result.duration = 1.0 - medianOf(durationDiff);
    result.valid = true;
    return result;
}

}  // namespace fovea
