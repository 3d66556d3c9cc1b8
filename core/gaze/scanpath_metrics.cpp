#include "core/gaze/scanpath_metrics.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {

double needlemanWunsch(const std::vector<int>& a, const std::vector<int>& b,
                       const std::function<double(int, int)>& substitution, double gap) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<double> previous(m + 1), current(m + 1);
    for (std::size_t j = 0; j <= m; ++j) previous[j] = gap * double(j);
    for (std::size_t i = 1; i <= n; ++i) {
        current[0] = gap * double(i);
        for (std::size_t j = 1; j <= m; ++j) {
            current[j] =
                std::max({previous[j - 1] + substitution(a[i - 1], b[j - 1]), previous[j] + gap, current[j - 1] + gap});
        }
        std::swap(previous, current);
    }
    return previous[m];
}

int gridCell(cv::Point2d point, cv::Size2d screen, int columns, int rows) {
    if (columns < 1 || rows < 1 || !(screen.width > 0) || !(screen.height > 0)) {
        throw Error("scanpath grid", "needs at least one cell and a positive screen size");
    }
    const int column = std::clamp(int(std::floor(point.x / (screen.width / columns))), 0, columns - 1);
    const int row = std::clamp(int(std::floor(point.y / (screen.height / rows))), 0, rows - 1);
    return row * columns + column;
}

std::vector<std::vector<double>> scanMatchSubstitution(const ScanMatchOptions& options) {
    const int cells = options.columns * options.rows;
    std::vector<std::vector<double>> distance(std::size_t(cells), std::vector<double>(std::size_t(cells), 0.0));
    double largest = 0.0;
    for (int i = 0; i < cells; ++i) {
        for (int j = 0; j < cells; ++j) {
            const double d = std::hypot(double(i % options.columns - j % options.columns),
                                        double(i / options.columns - j / options.columns));
            distance[std::size_t(i)][std::size_t(j)] = d;
            largest = std::max(largest, d);
        }
    }
    for (auto& row : distance) {
        for (double& d : row) d = std::abs(d - largest) - (largest - options.threshold);
    }
    return distance;
}

namespace {

std::vector<int> cellSequence(const Scanpath& path, const ScanMatchOptions& options) {
    std::vector<int> sequence;
    for (const Fixation& f : path.fixations) {
        const int cell = gridCell({f.x, f.y}, options.screen, options.columns, options.rows);
        // ScanMatch's temporal binning: a fixation stands for round(duration / bin) letters.
        const long repeats = options.temporalBin > 0 ? std::lround(f.duration / options.temporalBin) : 1;
        for (long r = 0; r < repeats; ++r) sequence.push_back(cell);
    }
    return sequence;
}

}  // namespace

double scanMatch(const Scanpath& a, const Scanpath& b, const ScanMatchOptions& options) {
    const std::vector<int> first = cellSequence(a, options), second = cellSequence(b, options);
    if (first.empty() || second.empty()) return std::nan("");
    const std::vector<std::vector<double>> substitution = scanMatchSubstitution(options);
    double largest = -std::numeric_limits<double>::infinity();
    for (const auto& row : substitution) largest = std::max(largest, *std::max_element(row.begin(), row.end()));
    const double score = needlemanWunsch(
        first, second, [&](int i, int j) { return substitution[std::size_t(i)][std::size_t(j)]; }, options.gap);
    return score / (largest * double(std::max(first.size(), second.size())));
}

int levenshteinDistance(const std::vector<int>& a, const std::vector<int>& b) {
    std::vector<int> previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = int(j);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = int(i);
        for (std::size_t j = 1; j <= b.size(); ++j) {
            current[j] =
                std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

int stringEditDistance(const Scanpath& a, const Scanpath& b, cv::Size2d screen, int columns, int rows) {
    std::vector<int> first, second;
    for (const Fixation& f : a.fixations) first.push_back(gridCell({f.x, f.y}, screen, columns, rows));
    for (const Fixation& f : b.fixations) second.push_back(gridCell({f.x, f.y}, screen, columns, rows));
    return levenshteinDistance(first, second);
}

double dynamicTimeWarping(const std::vector<cv::Point2d>& a, const std::vector<cv::Point2d>& b) {
    if (a.empty() || b.empty()) return std::nan("");
    const std::size_t n = a.size(), m = b.size();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> previous(m + 1, inf), current(m + 1, inf);
    previous[0] = 0.0;
    for (std::size_t i = 1; i <= n; ++i) {
        current[0] = inf;
        for (std::size_t j = 1; j <= m; ++j) {
            const double d = std::hypot(a[i - 1].x - b[j - 1].x, a[i - 1].y - b[j - 1].y);
            current[j] = d + std::min({previous[j], current[j - 1], previous[j - 1]});
        }
        std::swap(previous, current);
    }
    return previous[m];
}

double discreteFrechetDistance(const std::vector<cv::Point2d>& a, const std::vector<cv::Point2d>& b) {
    if (a.empty() || b.empty()) return std::nan("");
    const std::size_t n = a.size(), m = b.size();
    std::vector<double> previous(m), current(m);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < m; ++j) {
            const double d = std::hypot(a[i].x - b[j].x, a[i].y - b[j].y);
            double reach;
            if (i == 0 && j == 0)
                reach = d;
            else if (i == 0)
                reach = std::max(current[j - 1], d);
            else if (j == 0)
                reach = std::max(previous[0], d);
            else
                reach = std::max(std::min({previous[j], previous[j - 1], current[j - 1]}), d);
            current[j] = reach;
        }
        std::swap(previous, current);
    }
    return previous[m - 1];
}

int FixationClusters::labelOf(cv::Point2d point) const {
    int best = -1;
    double bestDistance = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < centres.size(); ++i) {
        const double d = std::hypot(point.x - centres[i].x, point.y - centres[i].y);
        if (d < bestDistance) {
            bestDistance = d;
            best = int(i);
        }
    }
    return best;
}

FixationClusters meanShiftClusters(const std::vector<cv::Point2d>& points, double bandwidth) {
    if (!(bandwidth > 0)) throw Error("mean shift", "the bandwidth must be positive");
    struct Mode {
        cv::Point2d centre;
        int support = 0;
    };
    std::vector<Mode> modes;
    for (const cv::Point2d& seed : points) {
        cv::Point2d centre = seed;
        int support = 0;
        for (int iteration = 0; iteration < 300; ++iteration) {
            cv::Point2d sum(0, 0);
            int count = 0;
            for (const cv::Point2d& p : points) {
                if (std::hypot(p.x - centre.x, p.y - centre.y) <= bandwidth) {
                    sum += p;
                    ++count;
                }
            }
            if (count == 0) break;
            const cv::Point2d next(sum.x / count, sum.y / count);
            const double shift = std::hypot(next.x - centre.x, next.y - centre.y);
            centre = next;
            support = count;
            if (shift < 1e-3 * bandwidth) break;
        }
        if (support > 0) modes.push_back({centre, support});
    }
    // Strongest modes first (ties by position, so the result does not depend on sort stability).
    std::sort(modes.begin(), modes.end(), [](const Mode& a, const Mode& b) {
        if (a.support != b.support) return a.support > b.support;
        return a.centre.x != b.centre.x ? a.centre.x < b.centre.x : a.centre.y < b.centre.y;
    });
    FixationClusters clusters;
    for (const Mode& mode : modes) {
        const bool near = std::any_of(clusters.centres.begin(), clusters.centres.end(), [&](const cv::Point2d& kept) {
            return std::hypot(kept.x - mode.centre.x, kept.y - mode.centre.y) < bandwidth;
        });
        if (!near) clusters.centres.push_back(mode.centre);
    }
    return clusters;
}

double sequenceScore(const Scanpath& a, const Scanpath& b, const FixationClusters& clusters) {
    if (a.fixations.empty() && b.fixations.empty()) return std::nan("");
    if (clusters.centres.empty()) throw Error("sequence score", "no clusters (give the human fixations of this image)");
    std::vector<int> first, second;
    for (const Fixation& f : a.fixations) first.push_back(clusters.labelOf({f.x, f.y}));
    for (const Fixation& f : b.fixations) second.push_back(clusters.labelOf({f.x, f.y}));
    const double score = needlemanWunsch(
        first, second, [](int x, int y) { return x == y ? 1.0 : 0.0; }, 0.0);
    return score / double(std::max(first.size(), second.size()));
}

}  // namespace fovea
