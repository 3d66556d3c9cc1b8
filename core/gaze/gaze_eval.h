// The numbers a gaze metrics panel shows for one stimulus: a map's saliency scores per subject,
// their mean, and the inter-observer baseline (how well the other subjects predict each one),
// plus the geometry that puts a model's map (over its input view) back on the stimulus image.
//
//     std::vector<fovea::SubjectScores> perSubject = fovea::scoreSubjects(map, data, "cat.jpg", options);
//     fovea::SaliencyScores mean = fovea::meanScores(scoresOf(perSubject));
//     fovea::SaliencyScores people = fovea::interObserverScores(data, "cat.jpg", map.size(), options);
//     cv::Mat1f onImage = fovea::viewMapToImage(rolloutGrid, spec.preprocessing, image.size());
#pragma once

#include "core/gaze/gaze_data.h"
#include "core/gaze/saliency_metrics.h"
#include "core/image/preprocess.h"

#include <string>
#include <vector>

namespace fovea {

struct SubjectScores {
    std::string subject;
    SaliencyScores scores;
};

// Each subject's fixations on `image` against `map` (the image's size); the density for CC, KLD
// and SIM is that subject's own fixations blurred. sAUC takes the fixations on other stimuli.
// `others` (in this image's pixels) replaces data.fixationsOffExcept(image) when given.
std::vector<SubjectScores> scoreSubjects(const cv::Mat1f& map, const GazeDataset& data, const std::string& image,
                                         const SaliencyOptions& options,
                                         const std::vector<cv::Point2d>* others = nullptr);
std::vector<SaliencyScores> scoresOf(const std::vector<SubjectScores>& subjects);

// The mean of each metric over the entries that are not NaN (NaN when all are); fixations summed.
SaliencyScores meanScores(const std::vector<SaliencyScores>& scores);

// Inter-observer consistency (leave one subject out): each subject scored against the blurred
// fixations of all the others, averaged over subjects. The upper reference a model is compared
// with (Judd et al. 2012's "human" baseline). NaN everywhere with fewer than two subjects.
SaliencyScores interObserverScores(const GazeDataset& data, const std::string& image, cv::Size size,
                                   const SaliencyOptions& options, const std::vector<cv::Point2d>* others = nullptr);

// The fixations on every stimulus but `image`, each scaled from its own image size to `size`
// (the MIT code resizes the other images' fixation maps the same way); stimuli without a known
// size are taken as they are. The negatives of shuffled AUC.
std::vector<cv::Point2d> otherFixationsScaled(const GazeDataset& data, const std::string& image, cv::Size size);

// A map over the model's input view (a patch grid, a CNN's feature grid or the view's pixels),
// upsampled bilinearly to the view, placed back through the preprocessing's centre crop and
// resize, over `imageSize` pixels. Image parts the model never saw take the map's minimum.
cv::Mat1f viewMapToImage(const cv::Mat& map, const Preprocessing& preprocessing, cv::Size imageSize);
// Segment labels over the view (any resolution), the same way with nearest neighbours; 0 outside.
cv::Mat1i viewLabelsToImage(const cv::Mat1i& labels, const Preprocessing& preprocessing, cv::Size imageSize);

}  // namespace fovea
