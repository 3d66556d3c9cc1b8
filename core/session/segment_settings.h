// How the segmentation view is set: the method and its parameters (per method, since the same
// name can mean different things, e.g. LOST's k and k-means' k), what is drawn, and the ground
// truth the user opened for each input. Part of a session (SessionState::segment).
//
//     SegmentSettings settings;
//     settings.method = "kmeans-parts";
//     settings.params["kmeans-parts"]["k"] = 5;
//     settings.groundTruth["/data/cat.jpg"] = "/data/gt/cat.png";    // or a COCO .json
//     SegmentParams params = settings.resolvedParams();               // the method's defaults + these
//     nlohmann::json json = settings.toJson();
#pragma once

#include "core/segment/segmenter.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fovea {

struct SegmentSettings {
    std::string method = "tokencut";
    std::map<std::string, SegmentParams> params;  // method -> name -> value; absent: defaults
    int layer = -1;                               // keys / CLS attention of this layer; -1: the last
    std::string mapMethod;                        // explainer for map methods; "": the method's default
    float opacity = 0.45f;                        // of the fills
    bool contours = true;
    bool boxes = true;  // object discovery: the box of the object's largest component
    bool showGroundTruth = true;
    std::vector<int> hidden;                         // segment labels not drawn
    std::map<std::string, std::string> groundTruth;  // input path -> label mask PNG or COCO JSON

    // The method's parameters: its defaults overridden by params[method] (validated).
    SegmentParams resolvedParams() const;
    bool isHidden(int label) const;
    // The ground truth opened for `inputPath`, "" when none.
    std::string groundTruthFor(const std::string& inputPath) const;

    nlohmann::json toJson() const;
    // Missing fields keep their defaults; wrong types or values throw fovea::Error naming the field.
    static SegmentSettings fromJson(const nlohmann::json& json);
    // Rewrites every path (inputs and ground-truth files), e.g. relative to a session's folder.
    void mapPaths(const std::function<std::string(const std::string&)>& map);
    // Forgets ground-truth files that do not exist; one warning line for each.
    std::vector<std::string> dropMissingGroundTruth();
};

}  // namespace fovea
