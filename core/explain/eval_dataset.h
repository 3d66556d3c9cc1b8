// Images with ground truth for `fovea eval`: generated shapes-in-clutter scenes, or a folder of
// images with object masks or boxes. Either way each sample's mask is given in the frame of the
// model's input (after its resize and centre crop), so it lines up with the maps.
//
//     EvalDataset data = EvalDataset::folder("photos", "", model->spec());   // photos/masks/...
//     for (int i = 0; i < data.size(); ++i) {
//         EvalSample sample = data.sample(i);
//         ImageInput input = makeImageInput(sample.image, model->spec(), sample.name);
//         bool hit = pointingHit(map, sample.mask, 15.0);
//     }
//
// A folder holds the images (.png .jpg .jpeg .bmp .tif .tiff .webp, not recursive, taken in
// name order) and one kind of ground truth:
//   - masks: FOLDER/masks/<stem>.<any of those extensions> for every image, the image's size,
//     non-zero = object (any bit depth; see readMask);
//   - boxes: a CSV file (given, or FOLDER/boxes.csv when there is no masks/ folder) with rows
//         file,x1,y1,x2,y2[,label]
//     file relative to FOLDER (no commas), then the box in the original image's pixels: x to the
//     right, y down, (x1, y1) its top-left and (x2, y2) its bottom-right corner, exclusive, so
//     0,0,W,H is a whole W x H image; a pixel is inside when its centre is. Several rows for an
//     image give the union of their boxes; every image needs at least one. A first row starting
//     "file," is a header; blank lines and lines starting with # are skipped.
// The class to explain is the model's top-1 unless a label is given: the boxes' label column or
// FOLDER/labels.csv with rows "file,label", a class index or one of the model's label names.
// Problems (no images, a missing, unreadable or wrongly sized mask, a malformed row, a box
// outside its image, an unknown label) throw fovea::Error naming the file, when the folder is
// opened, before any model work.
#pragma once

#include "core/data/shapes_scene.h"
#include "core/model/model_spec.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

struct EvalSample {
    std::string name;  // the image's file name, or "scene <seed>"
    cv::Mat image;     // 8-bit BGR as read or generated, before preprocessing
    cv::Mat mask;      // CV_8U, 255 on the object, in the model input's frame
    int label = -1;    // the class to explain; -1: the model's top-1
};

class EvalDataset {
public:
    // `count` scenes from `firstSeed` on, drawn at the model's input size.
    static EvalDataset scenes(int count, std::uint64_t firstSeed, const SceneOptions& options, const ModelSpec& spec);
    // Reads and checks every image's ground truth now; `boxesFile` empty: masks/ or boxes.csv.
    static EvalDataset folder(const std::string& folder, const std::string& boxesFile, const ModelSpec& spec);

    int size() const;
    // Reads the image (folder) or generates the scene.
    EvalSample sample(int index) const;
    // "500 held-out shapes-in-clutter scenes (seeds 1000500000 on)", "12 images in photos with masks (masks/)".
    std::string describe() const;

private:
    struct Item {
        std::string name, path;
        cv::Mat mask;  // in the model's frame
        int label = -1;
    };
    EvalDataset() = default;

    std::vector<Item> m_items;  // folders
    int m_sceneCount = 0;       // scenes
    std::uint64_t m_firstSeed = 0;
    SceneOptions m_sceneOptions;
    Preprocessing m_preprocessing;
    std::string m_description;
};

}  // namespace fovea
