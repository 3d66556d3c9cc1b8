// JSON formats: COCO-Search18, OAT's Amazon book covers, Fovea's own; object boxes from OAT's
// border masks.
#include "core/gaze/gaze_io.h"
#include "core/gaze/gaze_parse.h"
#include "core/io/json_file.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

using nlohmann::json;

// "entry 3: field 'X'" style locations for one-line errors.
class JsonPlace {
public:
    JsonPlace(const std::string& path, std::string where) : m_path(path), m_where(std::move(where)) {}
    [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
        throw Error(m_path, m_where + ": field '" + printableText(field) + "' " + problem);
    }
    const json& need(const json& object, const std::string& field) const {
        if (!object.is_object()) throw Error(m_path, m_where + ": is not a JSON object");
        const auto found = object.find(field);
        if (found == object.end()) fail(field, "is missing");
        return *found;
    }
    double number(const json& value, const std::string& field) const {
        if (!value.is_number()) fail(field, "must be a number");
        const double number = value.get<double>();
        if (!std::isfinite(number)) fail(field, "must be finite");
        return number;
    }
    std::vector<double> numbers(const json& value, const std::string& field) const {
        if (!value.is_array()) fail(field, "must be an array of numbers");
        std::vector<double> result;
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (!value[i].is_number() || !std::isfinite(value[i].get<double>())) {
                fail(field, "element " + std::to_string(i) + " is not a number");
            }
            result.push_back(value[i].get<double>());
        }
        return result;
    }
    std::string text(const json& value, const std::string& field) const {
        if (value.is_string()) return value.get<std::string>();
        if (value.is_number_integer()) return std::to_string(value.get<long long>());
        fail(field, "must be a string or an integer");
    }

private:
    const std::string& m_path;
    std::string m_where;
};

json parseJson(const std::string& path) {
    return readJsonFile(path);
}

cv::Rect2d boxFromCorners(const JsonPlace& place, const json& value, const std::string& field) {
    if (value.is_object()) {
        const double x1 = place.number(place.need(value, "xmin"), field + ".xmin");
        const double y1 = place.number(place.need(value, "ymin"), field + ".ymin");
        const double x2 = place.number(place.need(value, "xmax"), field + ".xmax");
        const double y2 = place.number(place.need(value, "ymax"), field + ".ymax");
        return {x1, y1, x2 - x1, y2 - y1};
    }
    const std::vector<double> corners = place.numbers(value, field);
    if (corners.size() != 4) place.fail(field, "must hold 4 numbers (x1, y1, x2, y2)");
    return {corners[0], corners[1], corners[2] - corners[0], corners[3] - corners[1]};
}

}  // namespace

GazeDataset readCocoSearch18(const std::string& path) {
    const json root = parseJson(path);
    if (!root.is_array()) throw Error(path, "is not a COCO-Search18 file (expected a JSON list of scanpaths)");
    GazeDataset data;
    for (std::size_t i = 0; i < root.size(); ++i) {
        const JsonPlace place(path, "entry " + std::to_string(i));
        const json& entry = root[i];
        Scanpath scanpath;
        scanpath.image = place.text(place.need(entry, "name"), "name");
        scanpath.subject = place.text(place.need(entry, "subject"), "subject");
        if (entry.contains("task")) scanpath.task = place.text(entry["task"], "task");
        const std::vector<double> xs = place.numbers(place.need(entry, "X"), "X");
        const std::vector<double> ys = place.numbers(place.need(entry, "Y"), "Y");
        const std::vector<double> ts = place.numbers(place.need(entry, "T"), "T");
        if (ys.size() != xs.size())
            place.fail("Y", "has " + std::to_string(ys.size()) + " values, X has " + std::to_string(xs.size()));
        if (ts.size() != xs.size())
            place.fail("T", "has " + std::to_string(ts.size()) + " values, X has " + std::to_string(xs.size()));
        if (entry.contains("length") && entry["length"].is_number() &&
            std::size_t(place.number(entry["length"], "length")) != xs.size()) {
            place.fail("length", "says " + std::to_string(entry["length"].get<long long>()) + " fixations, X has " +
                                     std::to_string(xs.size()));
        }
        if (entry.contains("bbox") && !entry["bbox"].is_null()) {
            const std::vector<double> box = place.numbers(entry["bbox"], "bbox");
            if (box.size() != 4) place.fail("bbox", "must hold 4 numbers (x, y, width, height)");
            scanpath.target = cv::Rect2d(box[0], box[1], box[2], box[3]);
        }
        double time = 0.0;
        for (std::size_t k = 0; k < xs.size(); ++k) {
            if (ts[k] < 0.0) place.fail("T", "element " + std::to_string(k) + " is a negative duration");
            Fixation fixation;
            fixation.x = xs[k];
            fixation.y = ys[k];
            fixation.start = time;
            fixation.duration = ts[k] / 1000.0;  // T holds fixation durations in milliseconds
            time += fixation.duration;
            scanpath.fixations.push_back(fixation);
        }
        data.add(std::move(scanpath));
    }
    // Chen et al. 2021 showed every image scaled to the 1680x1050 display.
    data.setDisplaySize(cv::Size(1680, 1050));
    for (const std::string& image : data.stimuli()) data.setImageSize(image, cv::Size(1680, 1050));
    return data;
}

GazeDataset readOatJson(const std::string& path) {
    const json root = parseJson(path);
    if (!root.is_object())
        throw Error(path, "is not an OAT book-cover file (expected a JSON object keyed by image name)");
    GazeDataset data;
    for (const auto& [image, entry] : root.items()) {
        const JsonPlace place(path, "image '" + printableText(image) + "'");
        const json& users = place.need(entry, "fixations");
        if (!users.is_object()) place.fail("fixations", "must map each user to a list of [x, y] points");
        std::optional<cv::Rect2d> target;
        if (entry.contains("ground_truth")) {
            const json& truth = entry["ground_truth"];
            if (truth.is_array() && !truth.empty())
                target = boxFromCorners(place, truth[0], "ground_truth[0]");
            else if (truth.is_object())
                target = boxFromCorners(place, truth, "ground_truth");
        }
        std::string task;
        if (entry.contains("target") && entry["target"].is_string()) task = entry["target"].get<std::string>();
        if (entry.contains("boxes")) {
            const json& boxes = entry["boxes"];
            if (!boxes.is_array()) place.fail("boxes", "must be a list of [x1, y1, x2, y2] boxes");
            std::vector<GazeObject> objects;
            for (std::size_t b = 0; b < boxes.size(); ++b) {
                objects.push_back(
                    {boxFromCorners(place, boxes[b], "boxes[" + std::to_string(b) + "]"), std::to_string(b + 1)});
            }
            data.setObjects(image, std::move(objects));
        }
        for (const auto& [user, points] : users.items()) {
            const std::string field = "fixations." + user;
            if (!points.is_array()) place.fail(field, "must be a list of [x, y] points");
            Scanpath scanpath;
            scanpath.image = image;
            scanpath.subject = user;
            scanpath.task = task;
            scanpath.target = target;
            for (std::size_t k = 0; k < points.size(); ++k) {
                const std::vector<double> point = place.numbers(points[k], field + "[" + std::to_string(k) + "]");
                if (point.size() < 2 || point.size() > 3) {
                    place.fail(field + "[" + std::to_string(k) + "]", "must be [x, y] or [x, y, duration in ms]");
                }
                Fixation fixation;
                fixation.x = point[0];
                fixation.y = point[1];
                fixation.duration = point.size() == 3 ? point[2] / 1000.0 : 0.0;
                scanpath.fixations.push_back(fixation);
            }
            setStartsFromDurations(scanpath);
            data.add(std::move(scanpath));
        }
    }
    data.assignObjects();
    return data;
}

GazeDataset readGazeJson(const std::string& path) {
    const json root = parseJson(path);
    if (!root.is_object() || root.value("format", "") != "fovea-gaze")
        throw Error(path, "is not a Fovea gaze file (no \"format\": \"fovea-gaze\")");
    GazeDataset data;
    if (root.contains("display")) {
        const std::vector<double> size = JsonPlace(path, "root").numbers(root["display"], "display");
        if (size.size() != 2) throw Error(path, "root: field 'display' must be [width, height]");
        data.setDisplaySize(cv::Size(int(size[0]), int(size[1])));
    }
    const json& stimuli = JsonPlace(path, "root").need(root, "stimuli");
    if (!stimuli.is_array()) throw Error(path, "root: field 'stimuli' must be a list");
    for (std::size_t s = 0; s < stimuli.size(); ++s) {
        const JsonPlace place(path, "stimulus " + std::to_string(s));
        const json& stimulus = stimuli[s];
        const std::string image = place.text(place.need(stimulus, "image"), "image");
        if (stimulus.contains("size")) {
            const std::vector<double> size = place.numbers(stimulus["size"], "size");
            if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
                place.fail("size", "must be [width, height], both positive");
            data.setImageSize(image, cv::Size(int(size[0]), int(size[1])));
        }
        if (stimulus.contains("objects")) {
            std::vector<GazeObject> objects;
            for (const json& object : stimulus["objects"]) {
                const std::vector<double> box = place.numbers(place.need(object, "box"), "objects.box");
                if (box.size() != 4) place.fail("objects.box", "must be [x, y, width, height]");
                objects.push_back({cv::Rect2d(box[0], box[1], box[2], box[3]), object.value("label", "")});
            }
            data.setObjects(image, std::move(objects));
        }
        const json& scanpaths = place.need(stimulus, "scanpaths");
        for (std::size_t p = 0; p < scanpaths.size(); ++p) {
            const JsonPlace at(path, "stimulus " + std::to_string(s) + " scanpath " + std::to_string(p));
            const json& entry = scanpaths[p];
            Scanpath scanpath;
            scanpath.image = image;
            scanpath.subject = at.text(at.need(entry, "subject"), "subject");
            scanpath.task = entry.value("task", "");
            if (entry.contains("target")) {
                const std::vector<double> box = at.numbers(entry["target"], "target");
                if (box.size() != 4) at.fail("target", "must be [x, y, width, height]");
                scanpath.target = cv::Rect2d(box[0], box[1], box[2], box[3]);
            }
            const json& fixations = at.need(entry, "fixations");
            for (std::size_t k = 0; k < fixations.size(); ++k) {
                const std::vector<double> row = at.numbers(fixations[k], "fixations[" + std::to_string(k) + "]");
                if (row.size() != 5)
                    at.fail("fixations[" + std::to_string(k) + "]", "must be [x, y, start, duration, object]");
                scanpath.fixations.push_back({row[0], row[1], row[2], row[3], int(row[4])});
            }
            data.add(std::move(scanpath));
        }
    }
    return data;
}

void writeGazeJson(const std::string& path, const GazeDataset& dataset) {
    json root;
    root["format"] = "fovea-gaze";
    root["version"] = 1;
    if (dataset.displaySize()) root["display"] = {dataset.displaySize()->width, dataset.displaySize()->height};
    json stimuli = json::array();
    for (const std::string& image : dataset.stimuli()) {
        json stimulus;
        stimulus["image"] = image;
        if (const auto size = dataset.imageSize(image)) stimulus["size"] = {size->width, size->height};
        if (!dataset.objectsOf(image).empty()) {
            json objects = json::array();
            for (const GazeObject& object : dataset.objectsOf(image)) {
                objects.push_back({{"box", {object.box.x, object.box.y, object.box.width, object.box.height}},
                                   {"label", object.label}});
            }
            stimulus["objects"] = objects;
        }
        json scanpaths = json::array();
        for (const Scanpath& scanpath : dataset.scanpathsOf(image)) {
            json entry;
            entry["subject"] = scanpath.subject;
            if (!scanpath.task.empty()) entry["task"] = scanpath.task;
            if (scanpath.target)
                entry["target"] = {scanpath.target->x, scanpath.target->y, scanpath.target->width,
                                   scanpath.target->height};
            json fixations = json::array();
            for (const Fixation& f : scanpath.fixations) fixations.push_back({f.x, f.y, f.start, f.duration, f.object});
            entry["fixations"] = fixations;
            scanpaths.push_back(entry);
        }
        stimulus["scanpaths"] = scanpaths;
        stimuli.push_back(stimulus);
    }
    root["stimuli"] = stimuli;
    writeJsonFile(path, root);
}

std::vector<GazeObject> boxesFromBorderMask(const cv::Mat& mask) {
    if (mask.empty()) throw Error("border mask", "is empty");
    cv::Mat grey;
    if (mask.channels() == 3)
        cv::cvtColor(mask, grey, cv::COLOR_BGR2GRAY);
    else
        grey = mask;
    cv::Mat binary;
    cv::threshold(grey, binary, 127, 255, cv::THRESH_BINARY);
    binary.convertTo(binary, CV_8U);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    std::vector<cv::Rect> boxes;
    for (const auto& contour : contours) boxes.push_back(cv::boundingRect(contour));
    // Reading order as OAT sorts its book covers: rows by top edge in 10 px buckets, then x.
    std::sort(boxes.begin(), boxes.end(), [](const cv::Rect& a, const cv::Rect& b) {
        const int rowA = a.y / 10 * 10, rowB = b.y / 10 * 10;
        return rowA != rowB ? rowA < rowB : a.x < b.x;
    });
    std::vector<GazeObject> objects;
    for (std::size_t i = 0; i < boxes.size(); ++i) objects.push_back({cv::Rect2d(boxes[i]), std::to_string(i + 1)});
    return objects;
}

}  // namespace fovea
