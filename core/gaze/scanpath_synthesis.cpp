#include "core/gaze/scanpath_synthesis.h"

#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fovea {
namespace {

cv::Mat1f shiftedToZero(const cv::Mat1f& map) {
    double low = 0.0;
    cv::minMaxLoc(map, &low, nullptr);
    cv::Mat1f shifted;
    map.convertTo(shifted, CV_32F, 1.0, -low);
    cv::patchNaNs(shifted, 0.0);
    return shifted;
}

// The first maximum in row-major order (cv::minMaxLoc does not promise which one on ties).
cv::Point firstMaximum(const cv::Mat1f& map, float& value) {
    cv::Point best(0, 0);
    value = map(0, 0);
    for (int r = 0; r < map.rows; ++r) {
        const float* row = map.ptr<float>(r);
        for (int c = 0; c < map.cols; ++c) {
            if (row[c] > value) {
                value = row[c];
                best = {c, r};
            }
        }
    }
    return best;
}

}  // namespace

Scanpath synthesizeScanpath(const cv::Mat1f& map, const WtaOptions& options) {
    if (map.empty()) throw Error("scanpath synthesis", "the map is empty");
    if (options.fixations < 1) throw Error("scanpath synthesis", "needs at least one fixation");
    if (options.radius < 0 || options.decay < 0 || options.decay > 1)
        throw Error("scanpath synthesis", "radius must be >= 0 and decay in [0, 1]");
    const cv::Mat1f saliency = shiftedToZero(map);
    double top = 0.0;
    cv::minMaxLoc(saliency, nullptr, &top);
    const double radius = options.radius > 0 ? options.radius : std::max(map.cols, map.rows) / 10.0;
    const double sigma = radius / 2.0;
    // inhibition in [0, 1]: the effective map is saliency × (1 − inhibition). Decay scales every
    // older inhibition; a new one is combined by max, so each fixation's own kernel survives.
    cv::Mat1f inhibition(map.size(), 0.0f);
    const int reach = int(std::ceil(options.inhibition == Inhibition::Disk ? radius : 3.0 * sigma));
    Scanpath path;
    double time = 0.0;
    for (int k = 0; k < options.fixations; ++k) {
        cv::Mat1f effective = saliency.mul(1.0f - inhibition);
        float value = 0.0f;
        const cv::Point winner = firstMaximum(effective, value);
        if (!(value > 0.0f)) break;  // nothing left to look at
        Fixation fixation;
        fixation.x = winner.x + 0.5;
        fixation.y = winner.y + 0.5;
        // Duration from the local saliency around the winner (original map, scaled to [0, 1]).
        double local = 0.0;
        int count = 0;
        const int r0 = std::max(0, winner.y - reach), r1 = std::min(map.rows - 1, winner.y + reach);
        const int c0 = std::max(0, winner.x - reach), c1 = std::min(map.cols - 1, winner.x + reach);
        if (options.decay > 0) inhibition *= (1.0 - options.decay);
        for (int r = r0; r <= r1; ++r) {
            for (int c = c0; c <= c1; ++c) {
                const double d2 = double(r - winner.y) * (r - winner.y) + double(c - winner.x) * (c - winner.x);
                if (d2 <= radius * radius) {
                    local += saliency(r, c);
                    ++count;
                }
                const float inhibit = options.inhibition == Inhibition::Disk
                                          ? (d2 <= radius * radius ? 1.0f : 0.0f)
                                          : float(std::exp(-d2 / (2.0 * sigma * sigma)));
                inhibition(r, c) = std::max(inhibition(r, c), inhibit);
            }
        }
        const double share = top > 0 && count > 0 ? local / count / top : 0.0;
        fixation.duration = options.minDuration + (options.maxDuration - options.minDuration) * share;
        fixation.start = time;
        time += fixation.duration;
        path.fixations.push_back(fixation);
    }
    return path;
}

namespace {

struct ObjectMass {
    int index = 0;
    double mass = 0.0;
    double area = 0.0;  // pixels
    cv::Point2d centroid;
    double score = 0.0;
};

Scanpath objectPath(std::vector<ObjectMass> objects, const ObjectScanpathOptions& options) {
    objects.erase(std::remove_if(objects.begin(), objects.end(), [](const ObjectMass& o) { return !(o.mass > 0.0); }),
                  objects.end());
    for (ObjectMass& object : objects) {
        object.score = options.ranking == ObjectRanking::Mass ? object.mass : object.mass / std::max(1.0, object.area);
    }
    std::stable_sort(objects.begin(), objects.end(),
                     [](const ObjectMass& a, const ObjectMass& b) { return a.score > b.score; });
    if (options.fixations > 0 && std::size_t(options.fixations) < objects.size())
        objects.resize(std::size_t(options.fixations));
    Scanpath path;
    double time = 0.0;
    for (const ObjectMass& object : objects) {
        Fixation fixation;
        fixation.x = object.centroid.x;
        fixation.y = object.centroid.y;
        fixation.object = object.index;
        fixation.duration =
            options.minDuration + (options.maxDuration - options.minDuration) * object.score / objects.front().score;
        fixation.start = time;
        time += fixation.duration;
        path.fixations.push_back(fixation);
    }
    return path;
}

}  // namespace

Scanpath synthesizeObjectScanpath(const cv::Mat1f& map, const cv::Mat& labels, const ObjectScanpathOptions& options) {
    if (map.empty()) throw Error("object scanpath", "the map is empty");
    if (labels.size() != map.size()) throw Error("object scanpath", "the label mask and the map differ in size");
    cv::Mat1i ids;
    labels.convertTo(ids, CV_32S);
    const cv::Mat1f saliency = shiftedToZero(map);
    double largest = 0.0;
    cv::minMaxLoc(ids, nullptr, &largest);
    std::vector<ObjectMass> objects(std::size_t(std::max(0.0, largest)));
    for (std::size_t i = 0; i < objects.size(); ++i) objects[i].index = int(i);
    for (int r = 0; r < map.rows; ++r) {
        for (int c = 0; c < map.cols; ++c) {
            const int id = ids(r, c);
            if (id <= 0) continue;
            ObjectMass& object = objects[std::size_t(id - 1)];
            object.area += 1.0;
            const double weight = saliency(r, c);
            object.mass += weight;
            object.centroid += cv::Point2d((c + 0.5) * weight, (r + 0.5) * weight);
        }
    }
    for (ObjectMass& object : objects) {
        if (object.mass > 0) object.centroid *= 1.0 / object.mass;
    }
    return objectPath(std::move(objects), options);
}

Scanpath synthesizeObjectScanpath(const cv::Mat1f& map, const std::vector<cv::Rect2d>& boxes,
                                  const ObjectScanpathOptions& options) {
    if (map.empty()) throw Error("object scanpath", "the map is empty");
    const cv::Mat1f saliency = shiftedToZero(map);
    std::vector<ObjectMass> objects;
    const cv::Rect whole(0, 0, map.cols, map.rows);
    for (std::size_t i = 0; i < boxes.size(); ++i) {
        ObjectMass object;
        object.index = int(i);
        // Pixels whose centre lies inside the box.
        const cv::Rect pixels =
            cv::Rect(cv::Point(int(std::ceil(boxes[i].x - 0.5)), int(std::ceil(boxes[i].y - 0.5))),
                     cv::Point(int(std::ceil(boxes[i].br().x - 0.5)), int(std::ceil(boxes[i].br().y - 0.5)))) &
            whole;
        object.area = double(pixels.area());
        for (int r = pixels.y; r < pixels.y + pixels.height; ++r) {
            for (int c = pixels.x; c < pixels.x + pixels.width; ++c) {
                const double weight = saliency(r, c);
                object.mass += weight;
                object.centroid += cv::Point2d((c + 0.5) * weight, (r + 0.5) * weight);
            }
        }
        if (object.mass > 0) object.centroid *= 1.0 / object.mass;
        objects.push_back(object);
    }
    return objectPath(std::move(objects), options);
}

int fixationsToTarget(const Scanpath& scanpath, const cv::Mat1b& target, double tolerance) {
    if (target.empty()) throw Error("fixations to target", "the target mask is empty");
    cv::Mat1f distance;
    if (tolerance > 0) {
        cv::Mat1b outside = target == 0;
        cv::distanceTransform(outside, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    }
    for (std::size_t i = 0; i < scanpath.fixations.size(); ++i) {
        const int c = int(std::floor(scanpath.fixations[i].x)), r = int(std::floor(scanpath.fixations[i].y));
        if (c < 0 || r < 0 || c >= target.cols || r >= target.rows) continue;
        if (target(r, c) != 0 || (tolerance > 0 && distance(r, c) <= tolerance)) return int(i) + 1;
    }
    return 0;
}

}  // namespace fovea
