#include "core/segment/ground_truth.h"

#include "core/image/preprocess.h"
#include "core/io/image_io.h"
#include "core/segment/segment_metrics.h"
#include "core/segment/segmenter.h"
#include "core/util/error.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace fovea {
namespace {

std::string lowerExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return extension;
}

std::string sizeText(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

cv::Mat1i cocoLabels(const std::string& jsonPath, const std::string& imagePath) {
    const std::vector<CocoObject> objects =
        readCocoObjects(jsonPath, std::filesystem::path(imagePath).filename().string());
    if (objects.empty()) {
        throw Error(jsonPath, "has no annotations for '" + std::filesystem::path(imagePath).filename().string() + "'");
    }
    cv::Mat1i labels(objects.front().mask.size(), 0);
    int next = 1;
    for (const CocoObject& object : objects) {
        // Later objects are drawn over earlier ones, as COCO's own label rendering does.
        // 255 stays "void": at most 254 objects get a label of their own.
        if (!object.crowd && next > 254) throw Error(jsonPath, "has more than 254 objects for one image");
        const int label = object.crowd ? 255 : next++;
        labels.setTo(label, object.mask);
    }
    return labels;
}

// modelViewMask takes 8-bit masks: the labels go through it one byte at a time (nearest
// neighbour moves whole pixels, so the bytes stay together).
cv::Mat1i labelsThroughPreprocessing(const cv::Mat1i& labels, const Preprocessing& preprocessing) {
    cv::Mat1b low(labels.size()), high(labels.size());
    for (int i = 0; i < int(labels.total()); ++i) {
        low(i) = uchar(labels(i) & 0xff);
        high(i) = uchar((labels(i) >> 8) & 0xff);
    }
    const cv::Mat lowView = modelViewMask(low, preprocessing), highView = modelViewMask(high, preprocessing);
    cv::Mat1i out(lowView.size());
    for (int i = 0; i < int(out.total()); ++i) out(i) = int(lowView.at<uchar>(i)) | int(highView.at<uchar>(i)) << 8;
    return out;
}

}  // namespace

cv::Mat1i readGroundTruth(const std::string& groundTruthPath, const std::string& imagePath, const ModelSpec& spec,
                          cv::Size viewSize) {
    const cv::Mat1i labels = lowerExtension(groundTruthPath) == ".json" ? cocoLabels(groundTruthPath, imagePath)
                                                                        : readLabelMask(groundTruthPath);
    if (lowerExtension(imagePath) == ".npy") {
        // A tensor input has no original picture: the mask must already be the model's size.
        if (labels.size() != viewSize) {
            throw Error(groundTruthPath, "is " + sizeText(labels.size()) + " but the tensor input " + imagePath +
                                             " is " + sizeText(viewSize));
        }
        return labels;
    }
    const cv::Mat image = readImage(imagePath);
    if (labels.size() != image.size()) {
        throw Error(groundTruthPath, "is " + sizeText(labels.size()) + " but " +
                                         std::filesystem::path(imagePath).filename().string() + " is " +
                                         sizeText(image.size()));
    }
    const cv::Mat1i view = labelsThroughPreprocessing(labels, spec.preprocessing);
    if (view.size() != viewSize) {
        throw Error(groundTruthPath, "comes out of the model's preprocessing as " + sizeText(view.size()) +
                                         " but the model saw " + sizeText(viewSize));
    }
    return view;
}

cv::Mat1b groundTruthForeground(const cv::Mat1i& truth) {
    return (truth > 0) & (truth != 255);
}

double groundTruthIoU(const cv::Mat1i& labels, const cv::Mat1i& truth) {
    return maskIoU(resizeLabels(labels, truth.size()) > 0, groundTruthForeground(truth));
}

}  // namespace fovea
