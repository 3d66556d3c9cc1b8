#include "core/gaze/gaze_data.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace fovea {

double Scanpath::totalDuration() const {
    double total = 0.0;
    for (const Fixation& fixation : fixations) total += fixation.duration;
    return total;
}

std::vector<cv::Point2d> Scanpath::points() const {
    std::vector<cv::Point2d> result;
    result.reserve(fixations.size());
    for (const Fixation& fixation : fixations) result.emplace_back(fixation.x, fixation.y);
    return result;
}

DisplayTransform DisplayTransform::fit(cv::Size2d display, cv::Size2d image) {
    if (display.width <= 0 || display.height <= 0 || image.width <= 0 || image.height <= 0) {
        throw Error("display transform", "display and image sizes must be positive");
    }
    const double scale = std::min(display.width / image.width, display.height / image.height);
    DisplayTransform transform;
    transform.scaleX = transform.scaleY = scale;
    transform.offsetX = (display.width - image.width * scale) / 2.0;
    transform.offsetY = (display.height - image.height * scale) / 2.0;
    return transform;
}

DisplayTransform DisplayTransform::stretch(cv::Size2d display, cv::Size2d image) {
    if (display.width <= 0 || display.height <= 0 || image.width <= 0 || image.height <= 0) {
        throw Error("display transform", "display and image sizes must be positive");
    }
    DisplayTransform transform;
    transform.scaleX = display.width / image.width;
    transform.scaleY = display.height / image.height;
    return transform;
}

cv::Point2d DisplayTransform::toImage(cv::Point2d display) const {
    return {(display.x - offsetX) / scaleX, (display.y - offsetY) / scaleY};
}

cv::Point2d DisplayTransform::toDisplay(cv::Point2d image) const {
    return {image.x * scaleX + offsetX, image.y * scaleY + offsetY};
}

cv::Rect2d DisplayTransform::toImage(const cv::Rect2d& display) const {
    const cv::Point2d topLeft = toImage(display.tl());
    return {topLeft.x, topLeft.y, display.width / scaleX, display.height / scaleY};
}

bool DisplayTransform::isIdentity() const {
    return scaleX == 1.0 && scaleY == 1.0 && offsetX == 0.0 && offsetY == 0.0;
}

void GazeDataset::add(Scanpath scanpath) {
    Stimulus& stimulus = m_stimuli[scanpath.image];
    stimulus.scanpaths.push_back(std::move(scanpath));
}

void GazeDataset::merge(GazeDataset other) {
    for (auto& [name, stimulus] : other.m_stimuli) {
        Stimulus& mine = m_stimuli[name];
        for (Scanpath& path : stimulus.scanpaths) mine.scanpaths.push_back(std::move(path));
        if (stimulus.size) mine.size = stimulus.size;
        if (!stimulus.objects.empty()) mine.objects = std::move(stimulus.objects);
    }
    if (!m_display) m_display = other.m_display;
}

std::vector<std::string> GazeDataset::stimuli() const {
    std::vector<std::string> names;
    for (const auto& [name, stimulus] : m_stimuli) names.push_back(name);
    return names;
}

const std::vector<Scanpath>& GazeDataset::scanpathsOf(const std::string& image) const {
    static const std::vector<Scanpath> none;
    const auto found = m_stimuli.find(image);
    return found == m_stimuli.end() ? none : found->second.scanpaths;
}

std::vector<Scanpath> GazeDataset::allScanpaths() const {
    std::vector<Scanpath> all;
    for (const auto& [name, stimulus] : m_stimuli)
        all.insert(all.end(), stimulus.scanpaths.begin(), stimulus.scanpaths.end());
    return all;
}

std::vector<std::string> GazeDataset::subjects() const {
    std::set<std::string> names;
    for (const auto& [name, stimulus] : m_stimuli) {
        for (const Scanpath& path : stimulus.scanpaths) names.insert(path.subject);
    }
    return {names.begin(), names.end()};
}

std::size_t GazeDataset::scanpathCount() const {
    std::size_t count = 0;
    for (const auto& [name, stimulus] : m_stimuli) count += stimulus.scanpaths.size();
    return count;
}

std::size_t GazeDataset::fixationCount() const {
    std::size_t count = 0;
    for (const auto& [name, stimulus] : m_stimuli) {
        for (const Scanpath& path : stimulus.scanpaths) count += path.fixations.size();
    }
    return count;
}

std::vector<cv::Point2d> GazeDataset::fixationsOn(const std::string& image) const {
    std::vector<cv::Point2d> points;
    for (const Scanpath& path : scanpathsOf(image)) {
        for (const Fixation& fixation : path.fixations) points.emplace_back(fixation.x, fixation.y);
    }
    return points;
}

std::vector<cv::Point2d> GazeDataset::fixationsOffExcept(const std::string& image) const {
    std::vector<cv::Point2d> points;
    for (const auto& [name, stimulus] : m_stimuli) {
        if (name == image) continue;
        for (const Scanpath& path : stimulus.scanpaths) {
            for (const Fixation& fixation : path.fixations) points.emplace_back(fixation.x, fixation.y);
        }
    }
    return points;
}

void GazeDataset::fitToImage(const std::string& image, cv::Size imageSize) {
    const std::optional<cv::Size> current = this->imageSize(image);
    if (current == imageSize) return;
    if (m_display && (!current || *current == *m_display)) {
        transformToImage(image, DisplayTransform::fit(cv::Size2d(*m_display), cv::Size2d(imageSize)));
    } else if (current) {
        transformToImage(image, DisplayTransform::stretch(cv::Size2d(*current), cv::Size2d(imageSize)));
    }
    setImageSize(image, imageSize);
}

void GazeDataset::setImageSize(const std::string& image, cv::Size size) {
    m_stimuli[image].size = size;
}

std::optional<cv::Size> GazeDataset::imageSize(const std::string& image) const {
    const auto found = m_stimuli.find(image);
    return found == m_stimuli.end() ? std::nullopt : found->second.size;
}

void GazeDataset::setObjects(const std::string& image, std::vector<GazeObject> objects) {
    m_stimuli[image].objects = std::move(objects);
}

const std::vector<GazeObject>& GazeDataset::objectsOf(const std::string& image) const {
    static const std::vector<GazeObject> none;
    const auto found = m_stimuli.find(image);
    return found == m_stimuli.end() ? none : found->second.objects;
}

void GazeDataset::transformToImage(const std::string& image, const DisplayTransform& transform) {
    const auto found = m_stimuli.find(image);
    if (found == m_stimuli.end()) return;
    for (Scanpath& path : found->second.scanpaths) {
        for (Fixation& fixation : path.fixations) {
            const cv::Point2d point = transform.toImage({fixation.x, fixation.y});
            fixation.x = point.x;
            fixation.y = point.y;
        }
        if (path.target) path.target = transform.toImage(*path.target);
    }
}

void GazeDataset::transformToImage(const DisplayTransform& transform) {
    for (auto& [name, stimulus] : m_stimuli) transformToImage(name, transform);
}

std::size_t GazeDataset::dropOutside() {
    std::size_t dropped = 0;
    for (auto& [name, stimulus] : m_stimuli) {
        if (!stimulus.size) continue;
        const double width = stimulus.size->width, height = stimulus.size->height;
        for (Scanpath& path : stimulus.scanpaths) {
            const std::size_t before = path.fixations.size();
            path.fixations.erase(std::remove_if(path.fixations.begin(), path.fixations.end(),
                                                [&](const Fixation& f) {
                                                    return !(f.x >= 0.0 && f.y >= 0.0 && f.x < width && f.y < height);
                                                }),
                                 path.fixations.end());
            dropped += before - path.fixations.size();
        }
    }
    return dropped;
}

int objectAt(const std::vector<GazeObject>& objects, cv::Point2d point) {
    // OAT (Fang et al., ECCV 2024) maps a fixation to the book cover that holds it, else to the
    // one whose centre is nearest; boxes are closed on all sides as in its preprocessing.
    int nearest = -1;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < objects.size(); ++i) {
        const cv::Rect2d& box = objects[i].box;
        if (point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height) {
            return int(i);
        }
        const double dx = point.x - (box.x + box.width / 2.0), dy = point.y - (box.y + box.height / 2.0);
        const double distance = std::hypot(dx, dy);
        if (distance < best) {
            best = distance;
            nearest = int(i);
        }
    }
    return nearest;
}

void GazeDataset::assignObjects() {
    for (auto& [name, stimulus] : m_stimuli) {
        if (stimulus.objects.empty()) continue;
        for (Scanpath& path : stimulus.scanpaths) {
            for (Fixation& fixation : path.fixations)
                fixation.object = objectAt(stimulus.objects, {fixation.x, fixation.y});
        }
    }
}

void setStartsFromDurations(Scanpath& scanpath, double firstStart) {
    double time = firstStart;
    for (Fixation& fixation : scanpath.fixations) {
        fixation.start = time;
        time += fixation.duration;
    }
}

}  // namespace fovea
