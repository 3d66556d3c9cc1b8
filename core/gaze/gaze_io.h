// Readers for the eye-tracking formats people have, and writers for CSV and JSON. Every reader
// returns a GazeDataset in the file's coordinates and throws fovea::Error with one line naming
// the file and the line (text formats) or the entry and field (JSON) that is wrong.
//
//     fovea::GazeDataset data = fovea::readGazeFile("subject01.asc");   // format from the content
//     fovea::writeFixationCsv("fixations.csv", data);
//     fovea::Scanpath path = fovea::readScanpathCsv("model.csv");       // one x,y,duration path
//
// Formats (see docs/gaze/README.md for examples):
// - COCO-Search18 JSON (Chen et al. 2021): a list of {name, subject, task, condition, bbox
//   [x,y,w,h], X[], Y[], T[] (ms), length, ...}, recorded on a 1680x1050 display (displaySize()).
// - EyeLink ASC (SR Research EDF2ASC): EFIX / ESACC / MSG lines inside START ... END blocks; the
//   stimulus comes from "MSG t !V IMGLOAD ..." (else "TRIALID"), time zero is the block's
//   SYNCTIME message (else START); "." marks a missing value.
// - Tobii Pro Lab TSV export: one row per gaze sample; rows of one fixation (same "Eye movement
//   type index") collapse into one fixation.
// - OAT's Amazon book-cover JSON (Fang et al., ECCV 2024): {image: {"fixations": {user: [[x, y],
//   ...]}, "ground_truth": [{xmin, ymin, xmax, ymax}], "target": ..., "boxes": [[x1,y1,x2,y2]...]}}.
// - Plain CSV or TSV with a header: x, y, duration (seconds) [, start, subject, image, object, task].
#pragma once

#include "core/gaze/gaze_data.h"

#include <string>
#include <vector>

namespace fovea {

struct GazeReadOptions {
    // Subject and stimulus names for sources that do not carry them (ASC: the file's stem; CSV:
    // the file's stem for the subject, "" for the image).
    std::string subject;
    std::string image;
    // EyeLink: 'L' or 'R'; 0 takes the first eye each block reports fixations for.
    char eye = 0;
    // EyeLink: the message that marks stimulus onset (time zero) inside a block.
    std::string onsetMessage = "SYNCTIME";
};

enum class GazeFormat { CocoSearch18, EyeLinkAsc, TobiiTsv, OatJson, Csv, FoveaJson };
std::string gazeFormatName(GazeFormat format);

// The format of a file, from its extension and first bytes; throws when it is none of them.
GazeFormat detectGazeFormat(const std::string& path);
GazeDataset readGazeFile(const std::string& path, const GazeReadOptions& options = {});

GazeDataset readCocoSearch18(const std::string& path);
GazeDataset readEyeLinkAsc(const std::string& path, const GazeReadOptions& options = {});
GazeDataset readTobiiTsv(const std::string& path, const GazeReadOptions& options = {});
GazeDataset readOatJson(const std::string& path);
GazeDataset readFixationCsv(const std::string& path, const GazeReadOptions& options = {});
GazeDataset readGazeJson(const std::string& path);

// A file with exactly one scanpath (CSV, or any format above holding one); throws otherwise.
Scanpath readScanpath(const std::string& path);

// x,y,duration,start,subject,image,object: one row per fixation, scanpaths in dataset order.
void writeFixationCsv(const std::string& path, const GazeDataset& dataset);
void writeScanpathCsv(const std::string& path, const Scanpath& scanpath);
// Fovea's JSON: every stimulus with its size, objects and scanpaths; readGazeJson reads it back.
void writeGazeJson(const std::string& path, const GazeDataset& dataset);

// Object boxes from an image of white object borders on black (OAT's "binarymask" images):
// the bounding box of each outer contour, in reading order (rows bucketed by 10 px, then x).
std::vector<GazeObject> boxesFromBorderMask(const cv::Mat& mask);

}  // namespace fovea
