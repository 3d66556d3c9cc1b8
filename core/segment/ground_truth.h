// Ground truth for one input image, at the pixels the model saw: a PNG label mask of the image or
// the image's objects in a COCO instances file (polygons or RLE), put through the model's resize
// and centre crop so it lines up with the segmentation the workbench draws over input.view.
//
//     cv::Mat1i truth = readGroundTruth("gt/cat.png", "images/cat.jpg", model.spec(), input.view.size());
//     cv::Mat1i fromCoco = readGroundTruth("instances_val.json", "images/000139.jpg", spec, size);
//     double iou = groundTruthIoU(result.labels, truth);   // foreground against foreground
#pragma once

#include "core/model/model_spec.h"

#include <opencv2/core/mat.hpp>

#include <string>

namespace fovea {

// `groundTruthPath` ending in .json is a COCO instances file: the annotations of the image whose
// file_name is `imagePath`'s file name, one label per object in file order (1, 2, ...; crowd
// regions 255, "void", as VOC marks them). Anything else is a label mask image (readLabelMask).
// The mask must have the original image's size; for a .npy input (already the model's size)
// it must have `viewSize`. Throws fovea::Error naming the ground-truth file on any mismatch.
cv::Mat1i readGroundTruth(const std::string& groundTruthPath, const std::string& imagePath, const ModelSpec& spec,
                          cv::Size viewSize);

// The object pixels of a label map: labels > 0 except 255 (void).
cv::Mat1b groundTruthForeground(const cv::Mat1i& truth);

// Foreground IoU of a segmentation (labels at any resolution, upsampled by nearest neighbour as
// `fovea segment eval` does) against ground-truth labels.
double groundTruthIoU(const cv::Mat1i& labels, const cv::Mat1i& truth);

}  // namespace fovea
