// Scoring segmentations against ground truth, and reading ground truth: IoU (Jaccard), mean IoU
// over a set of images or of classes, CorLoc (a predicted box with IoU >= 0.5 against a
// ground-truth box), the box of the largest connected component; PNG label masks and COCO
// annotations (polygons, uncompressed and compressed RLE) for one image. Torch-free.
//
//     double iou = maskIoU(predicted > 0, truth > 0);
//     bool found = corLocHit(largestComponentBox(predicted > 0), {scene.targetBox});
//     cv::Mat1i truth = readLabelMask("gt/0001.png");
//     std::vector<CocoObject> objects = readCocoObjects("instances_val.json", "000000000139.jpg");
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fovea {

// |A ∩ B| / |A ∪ B| of two masks of the same size (non-zero = inside); 1 when both are empty.
double maskIoU(const cv::Mat& a, const cv::Mat& b);
double boxIoU(const cv::Rect& a, const cv::Rect& b);
// True when `predicted` overlaps any ground-truth box with IoU >= threshold (CorLoc).
bool corLocHit(const cv::Rect& predicted, const std::vector<cv::Rect>& truth, double threshold = 0.5);
// Bounding box of the largest 4-connected component of the non-zero pixels (empty Rect if none).
cv::Rect largestComponentBox(const cv::Mat& mask);

// Per-class IoU accumulated over a set of label maps (confusion counts), and their mean over the
// classes that occur in the prediction or the ground truth. Labels >= classes are ignored
// (255 = "void" in VOC).
class IoUAccumulator {
public:
    explicit IoUAccumulator(int classes) : m_classes(classes), m_confusion(std::size_t(classes) * classes, 0) {}
    void add(const cv::Mat1i& predicted, const cv::Mat1i& truth);
    double classIoU(int label) const;  // NaN when the class never occurs
    double meanIoU() const;

private:
    int m_classes;
    std::vector<long long> m_confusion;  // [truth][predicted]
};

// A label mask image: 8- or 16-bit grayscale values are the labels; a colour image gets one label
// per distinct non-black colour, in order of first appearance. Throws fovea::Error naming the file.
cv::Mat1i readLabelMask(const std::string& path);

// COCO run-length encoding: counts alternate background / foreground runs over the column-major
// (Fortran order) pixels, starting with background.
cv::Mat1b decodeRle(const std::vector<long long>& counts, int height, int width);
// The compressed string form (pycocotools' "counts" string): 6-bit groups offset by 48, 5 value
// bits and a continuation bit each, sign-extended; counts after the second are deltas to the
// count two places back.
std::vector<long long> parseRleString(const std::string& text);
std::string encodeRleString(const std::vector<long long>& counts);
std::vector<long long> encodeRle(const cv::Mat1b& mask);

struct CocoObject {
    int category = 0;
    cv::Rect box;     // the annotation's bbox, rounded outwards
    cv::Mat1b mask;   // image size, 255 inside
    bool crowd = false;
};

// Every annotation of one image (by file_name, or by id when `image` is a number) of a COCO
// instances JSON. Throws fovea::Error naming the file for a missing image or a malformed entry.
std::vector<CocoObject> readCocoObjects(const std::string& jsonPath, const std::string& image);

}  // namespace fovea
