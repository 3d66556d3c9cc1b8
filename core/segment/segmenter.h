// Segmentation from attention: methods behind one interface, found by name in a registry like
// the explainers (`fovea segment --method NAME --param k=v`, `fovea segment eval`). Torch-free:
// a method sees only what a forward pass left behind (SegmentInputs).
//
//     const Segmenter& method = findSegmenter("tokencut");
//     SegmentParams params = method.resolve({{"tau", 0.3}});         // defaults, then --param k=v
//     SegmentInputs inputs = SegmentInputs::fromAttention(outputs.attention);  // captured with keys
//     Segmentation result = method.segment(inputs, params);
//     cv::Mat1i labels = result.labels;   // over the patch grid: 0 background, 1..count segments
//
// Map-based methods (heatmap threshold, CAM to mask) read inputs.map / inputs.classMaps instead,
// at whatever resolution the explanation method produced.
#pragma once

#include "core/model/attention_stack.h"

#include <opencv2/core/mat.hpp>

#include <map>
#include <string>
#include <vector>

namespace fovea {

struct SegmenterParam {
    std::string name;
    double defaultValue = 0.0;
    double minimum = 0.0;
    double maximum = 1.0;
    bool integer = false;
    std::string help;
    std::vector<std::string> choices = {};  // integer options: the label of each value from minimum on
};

using SegmentParams = std::map<std::string, double>;

// What the methods read. Fill what the method needs (Segmenter::needs()).
struct SegmentInputs {
    int gridRows = 0, gridCols = 0;
    cv::Mat1f keys;                         // patches x dim, row-major patch order (key methods)
    std::vector<cv::Mat1f> headAttention;   // per head: CLS -> patch attention, gridRows x gridCols
    cv::Mat1f map;                          // an explanation map (map methods), any resolution
    std::vector<cv::Mat1f> classMaps;       // one class activation map per class (CAM to mask)
    cv::Mat1b groundTruth;                  // optional: non-zero on the object (best-IoU threshold)

    // Keys of the patch tokens and every captured head's CLS row from one layer (-1: the last
    // captured). Throws fovea::Error when that layer was captured without keys.
    static SegmentInputs fromAttention(const AttentionStack& stack, int layer = -1);
};

struct Segmentation {
    cv::Mat1i labels;              // 0 background, 1..count; the grid or the map's resolution
    int count = 0;
    std::vector<cv::Rect> boxes;   // per segment: box of its largest connected component (label units)
    cv::Mat1f score;               // the continuous map the labels came from, when there is one
};

// Which inputs a method reads.
enum class SegmentNeeds { Attention, Keys, Map, ClassMaps };

class Segmenter {
public:
    virtual ~Segmenter() = default;
    virtual std::string name() const = 0;
    virtual std::string title() const = 0;
    virtual std::string citation() const = 0;
    virtual std::vector<SegmenterParam> parameters() const { return {}; }
    virtual SegmentNeeds needs() const = 0;
    virtual Segmentation segment(const SegmentInputs& inputs, const SegmentParams& params) const = 0;

    SegmentParams defaults() const;
    // Defaults overridden by `given`; throws fovea::Error naming the method for an unknown
    // parameter, a value out of range or a non-integer where an integer is needed.
    SegmentParams resolve(const SegmentParams& given) const;
};

const std::vector<const Segmenter*>& segmenters();
const Segmenter& findSegmenter(const std::string& name);  // throws listing the known names
std::vector<std::string> segmenterNames();

// Building blocks, exposed for tests and for the GUI.
// Nearest-neighbour resize of a label map (DINO upsamples its masks this way).
cv::Mat1i resizeLabels(const cv::Mat1i& labels, cv::Size size);
// Connected component (4-connectivity, as scipy.ndimage.label) of `mask` that holds `seed`.
cv::Mat1b componentAt(const cv::Mat1b& mask, cv::Point seed);
// Boxes of the largest connected component of each label 1..count.
std::vector<cv::Rect> segmentBoxes(const cv::Mat1i& labels, int count);
// DINO: keep the smallest set of patches holding `mass` of the (non-negative) attention.
cv::Mat1b massThreshold(const cv::Mat1f& attention, double mass);
// Otsu's threshold of a map scaled to [0, 1] (256 bins); returns a value in [0, 1].
double otsuThreshold(const cv::Mat1f& normalized);

// Drawing: `labels` at the image's size. A translucent fill and a 1-pixel contour per segment,
// one colour per label (segmentColor), the background untouched.
cv::Mat segmentationOverlay(const cv::Mat& bgr, const cv::Mat1i& labels, double opacity = 0.45);
cv::Vec3b segmentColor(int label);  // BGR, label >= 1
// Labels as a PNG-ready image: 8-bit up to 255 labels, else 16-bit.
cv::Mat labelMaskImage(const cv::Mat1i& labels);

}  // namespace fovea
