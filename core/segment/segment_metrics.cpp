#include "core/segment/segment_metrics.h"

#include "core/io/json_file.h"
#include "core/util/error.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace fovea {

double maskIoU(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size()) throw Error("IoU: masks differ in size");
    const cv::Mat inA = a != 0, inB = b != 0;
    const double uni = cv::countNonZero(inA | inB);
    return uni > 0.0 ? cv::countNonZero(inA & inB) / uni : 1.0;
}

double boxIoU(const cv::Rect& a, const cv::Rect& b) {
    const double intersection = (a & b).area();
    const double uni = double(a.area()) + b.area() - intersection;
    return uni > 0.0 ? intersection / uni : 0.0;
}

bool corLocHit(const cv::Rect& predicted, const std::vector<cv::Rect>& truth, double threshold) {
    return std::any_of(truth.begin(), truth.end(), [&](const cv::Rect& box) { return boxIoU(predicted, box) >= threshold; });
}

cv::Rect largestComponentBox(const cv::Mat& mask) {
    cv::Mat components, stats, centroids;
    const int found = cv::connectedComponentsWithStats(mask != 0, components, stats, centroids, 4, CV_32S);
    int best = -1, bestArea = 0;
    for (int c = 1; c < found; ++c) {
        if (stats.at<int>(c, cv::CC_STAT_AREA) > bestArea) {
            bestArea = stats.at<int>(c, cv::CC_STAT_AREA);
            best = c;
        }
    }
    if (best < 0) return {};
    return {stats.at<int>(best, cv::CC_STAT_LEFT), stats.at<int>(best, cv::CC_STAT_TOP), stats.at<int>(best, cv::CC_STAT_WIDTH),
            stats.at<int>(best, cv::CC_STAT_HEIGHT)};
}

void IoUAccumulator::add(const cv::Mat1i& predicted, const cv::Mat1i& truth) {
    if (predicted.size() != truth.size()) throw Error("IoU: label maps differ in size");
    for (int i = 0; i < int(truth.total()); ++i) {
        const int t = truth(i), p = predicted(i);
        if (t < 0 || t >= m_classes || p < 0 || p >= m_classes) continue;
        m_confusion[std::size_t(t) * m_classes + std::size_t(p)]++;
    }
}

double IoUAccumulator::classIoU(int label) const {
    long long hit = m_confusion[std::size_t(label) * m_classes + std::size_t(label)], truthTotal = 0, predictedTotal = 0;
    for (int other = 0; other < m_classes; ++other) {
        truthTotal += m_confusion[std::size_t(label) * m_classes + std::size_t(other)];
        predictedTotal += m_confusion[std::size_t(other) * m_classes + std::size_t(label)];
    }
    const long long uni = truthTotal + predictedTotal - hit;
    return uni > 0 ? double(hit) / double(uni) : std::numeric_limits<double>::quiet_NaN();
}

double IoUAccumulator::meanIoU() const {
    double sum = 0.0;
    int count = 0;
    for (int label = 0; label < m_classes; ++label) {
        const double iou = classIoU(label);
        if (std::isnan(iou)) continue;
        sum += iou;
        ++count;
    }
    return count > 0 ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

cv::Mat1i readLabelMask(const std::string& path) {
    const cv::Mat image = cv::imread(path, cv::IMREAD_UNCHANGED);
    if (image.empty()) throw Error(path, "cannot read as a label mask image");
    cv::Mat1i labels(image.size());
    if (image.channels() == 1) {
        if (image.depth() != CV_8U && image.depth() != CV_16U) throw Error(path, "label mask must be 8- or 16-bit");
        image.convertTo(labels, CV_32S);
        return labels;
    }
    cv::Mat bgr;
    if (image.channels() == 4) {
        cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
    } else if (image.channels() == 3) {
        bgr = image;
    } else {
        throw Error(path, "label mask has " + std::to_string(image.channels()) + " channels");
    }
    if (bgr.depth() != CV_8U) throw Error(path, "colour label mask must be 8-bit");
    std::map<int, int> colours;
    for (int y = 0; y < bgr.rows; ++y) {
        for (int x = 0; x < bgr.cols; ++x) {
            const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
            const int key = c[0] << 16 | c[1] << 8 | c[2];
            if (key == 0) {
                labels(y, x) = 0;
                continue;
            }
            const auto found = colours.emplace(key, int(colours.size()) + 1).first;
            labels(y, x) = found->second;
        }
    }
    return labels;
}

cv::Mat1b decodeRle(const std::vector<long long>& counts, int height, int width) {
    cv::Mat1b mask(height, width, uchar(0));
    const long long total = (long long)height * width;
    long long position = 0;
    bool inside = false;
    for (long long run : counts) {
        if (run < 0 || position + run > total) throw Error("RLE counts do not fit a " + std::to_string(height) + "x" + std::to_string(width) + " mask");
        if (inside) {
            for (long long i = position; i < position + run; ++i) mask(int(i % height), int(i / height)) = 255;
        }
        position += run;
        inside = !inside;
    }
    if (position != total) throw Error("RLE counts cover " + std::to_string(position) + " pixels, the mask has " + std::to_string(total));
    return mask;
}

std::vector<long long> parseRleString(const std::string& text) {
    std::vector<long long> counts;
    std::size_t p = 0;
    while (p < text.size()) {
        long long value = 0;
        int shift = 0;
        bool more = true;
        while (more) {
            if (p >= text.size()) throw Error("compressed RLE string ends inside a count");
            const int group = int(text[p++]) - 48;
            if (group < 0 || group > 63) throw Error("compressed RLE string has an invalid character");
            value |= (long long)(group & 0x1f) << shift;
            more = (group & 0x20) != 0;
            shift += 5;
            if (!more && (group & 0x10)) value |= -(1LL << shift);  // sign extension
        }
        if (counts.size() > 2) value += counts[counts.size() - 2];
        counts.push_back(value);
    }
    return counts;
}

std::string encodeRleString(const std::vector<long long>& counts) {
    std::string text;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        long long value = counts[i];
        if (i > 2) value -= counts[i - 2];
        bool more = true;
        while (more) {
            int group = int(value & 0x1f);
            value >>= 5;  // arithmetic shift keeps the sign
            more = (group & 0x10) ? value != -1 : value != 0;
            if (more) group |= 0x20;
            text.push_back(char(group + 48));
        }
    }
    return text;
}

std::vector<long long> encodeRle(const cv::Mat1b& mask) {
    std::vector<long long> counts;
    bool inside = false;
    long long run = 0;
    for (int x = 0; x < mask.cols; ++x) {
        for (int y = 0; y < mask.rows; ++y) {
            if ((mask(y, x) != 0) != inside) {
                counts.push_back(run);
                run = 0;
                inside = !inside;
            }
            ++run;
        }
    }
    counts.push_back(run);
    return counts;
}

namespace {

cv::Mat1b rasterizeSegmentation(const nlohmann::json& segmentation, int height, int width, const std::string& where) {
    cv::Mat1b mask(height, width, uchar(0));
    if (segmentation.is_array()) {
        // Polygons [x1, y1, x2, y2, ...] in pixel-corner coordinates: a pixel is inside when its
        // centre is (pycocotools rasterises the outline a little differently; they agree up to
        // pixels the outline passes through).
        for (const auto& polygon : segmentation) {
            if (!polygon.is_array() || polygon.size() < 6 || polygon.size() % 2) throw Error(where, "polygon needs at least 3 x,y pairs");
            std::vector<cv::Point2f> points;
            for (std::size_t i = 0; i < polygon.size(); i += 2) points.emplace_back(polygon[i].get<float>(), polygon[i + 1].get<float>());
            const cv::Rect bounds = cv::boundingRect(points) & cv::Rect(0, 0, width, height);
            for (int y = bounds.y; y < bounds.y + bounds.height; ++y) {
                for (int x = bounds.x; x < bounds.x + bounds.width; ++x) {
                    if (cv::pointPolygonTest(points, cv::Point2f(float(x) + 0.5f, float(y) + 0.5f), false) > 0) mask(y, x) = 255;
                }
            }
        }
        return mask;
    }
    if (!segmentation.is_object() || !segmentation.contains("counts")) throw Error(where, "segmentation is neither polygons nor RLE");
    const nlohmann::json& counts = segmentation["counts"];
    if (segmentation.contains("size")) {
        const auto& size = segmentation["size"];
        if (!size.is_array() || size.size() != 2 || size[0].get<int>() != height || size[1].get<int>() != width) {
            throw Error(where, "RLE size differs from the image size");
        }
    }
    try {
        if (counts.is_string()) return decodeRle(parseRleString(counts.get<std::string>()), height, width);
        return decodeRle(counts.get<std::vector<long long>>(), height, width);
    } catch (const Error& error) {
        throw Error(where, error.what());
    }
}

}  // namespace

std::vector<CocoObject> readCocoObjects(const std::string& jsonPath, const std::string& image) {
    const nlohmann::json root = readJsonFile(jsonPath);
    try {
        if (!root.contains("images") || !root.contains("annotations")) throw Error(jsonPath, "has no images or annotations");
        bool numeric = !image.empty() && std::all_of(image.begin(), image.end(), [](char c) { return c >= '0' && c <= '9'; });
        long long id = -1;
        int height = 0, width = 0;
        for (const auto& entry : root["images"]) {
            const bool match = numeric ? entry.at("id").get<long long>() == std::stoll(image) : entry.value("file_name", std::string()) == image;
            if (!match) continue;
            id = entry.at("id").get<long long>();
            height = entry.at("height").get<int>();
            width = entry.at("width").get<int>();
            break;
        }
        if (id < 0) throw Error(jsonPath, "has no image '" + image + "'");
        std::vector<CocoObject> objects;
        for (const auto& annotation : root["annotations"]) {
            if (annotation.at("image_id").get<long long>() != id) continue;
            const std::string where = jsonPath + " annotation " + std::to_string(annotation.value("id", -1LL));
            CocoObject object;
            object.category = annotation.value("category_id", 0);
            object.crowd = annotation.value("iscrowd", 0) != 0;
            if (annotation.contains("bbox")) {
                const auto box = annotation["bbox"].get<std::vector<double>>();
                if (box.size() != 4) throw Error(where, "bbox needs 4 numbers");
                const int x0 = int(std::floor(box[0])), y0 = int(std::floor(box[1]));
                object.box = cv::Rect(x0, y0, int(std::ceil(box[0] + box[2])) - x0, int(std::ceil(box[1] + box[3])) - y0);
            }
            object.mask = rasterizeSegmentation(annotation.at("segmentation"), height, width, where);
            objects.push_back(std::move(object));
        }
        return objects;
    } catch (const nlohmann::json::exception& error) {
        throw Error(jsonPath, std::string("malformed COCO annotation: ") + error.what());
    }
}

}  // namespace fovea
