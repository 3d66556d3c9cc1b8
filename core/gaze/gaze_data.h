// Eye-tracking data in one shape whatever file it came from: fixations, scanpaths (one subject
// looking at one stimulus), and a dataset that maps each stimulus to its subjects' scanpaths,
// with the objects (AOIs) of each stimulus and the transform from display to image pixels.
//
//     fovea::GazeDataset data = fovea::readGazeFile("cocosearch18_train.json");
//     // COCO-Search18 recorded on a 1680x1050 display; the image was shown letterboxed in it.
//     data.transformToImage("000000400966.jpg", fovea::DisplayTransform::fit({1680, 1050}, {640, 480}));
//     for (const fovea::Scanpath& path : data.scanpathsOf("000000400966.jpg"))
//         std::cout << path.subject << ": " << path.fixations.size() << " fixations\n";
//
// Coordinates are image pixels with (0, 0) the top-left corner of the top-left pixel, so pixel
// (col, row) covers [col, col + 1) x [row, row + 1); a fixation at (12.7, 3.2) is on pixel (12, 3).
// A fixation's subject and stimulus are those of the scanpath that holds it.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

struct Fixation {
    double x = 0.0, y = 0.0;  // image pixels
    double start = 0.0;       // seconds since stimulus onset
    double duration = 0.0;    // seconds; 0 when the source has none
    int object = -1;          // index into the stimulus's objects (AOI), -1 for none
};

struct Scanpath {
    std::string subject;
    std::string image;  // the stimulus: a file name, as the source names it
    std::string task;   // e.g. COCO-Search18's target category; empty for free viewing
    std::vector<Fixation> fixations;
    std::optional<cv::Rect2d> target;  // the search target's box, when the data has one

    double totalDuration() const;
    std::vector<cv::Point2d> points() const;
};

// An object or area of interest on a stimulus.
struct GazeObject {
    cv::Rect2d box;
    std::string label;
};

// How an image was shown: display = image * scale + offset (pixels). COCO-Search18's 1680x1050
// display, for instance, showed every image scaled to fit and centred (fit()).
struct DisplayTransform {
    double scaleX = 1.0, scaleY = 1.0;
    double offsetX = 0.0, offsetY = 0.0;

    // The image scaled by one factor until it touches the display's sides and centred, the rest
    // padded (letterbox or pillarbox).
    static DisplayTransform fit(cv::Size2d display, cv::Size2d image);
    // The image stretched over the whole display.
    static DisplayTransform stretch(cv::Size2d display, cv::Size2d image);

    cv::Point2d toImage(cv::Point2d display) const;
    cv::Point2d toDisplay(cv::Point2d image) const;
    cv::Rect2d toImage(const cv::Rect2d& display) const;
    bool isIdentity() const;
};

// Every scanpath, grouped by stimulus (stimuli sorted by name; scanpaths in the order added).
class GazeDataset {
public:
    void add(Scanpath scanpath);
    // Moves every scanpath of `other` in, with its sizes and objects.
    void merge(GazeDataset other);

    std::vector<std::string> stimuli() const;
    bool hasStimulus(const std::string& image) const { return m_stimuli.count(image) > 0; }
    // Empty for an unknown stimulus.
    const std::vector<Scanpath>& scanpathsOf(const std::string& image) const;
    std::vector<Scanpath> allScanpaths() const;
    std::vector<std::string> subjects() const;  // sorted, unique
    std::size_t scanpathCount() const;
    std::size_t fixationCount() const;
    bool empty() const { return m_stimuli.empty(); }

    // Every fixation on one stimulus, of all subjects.
    std::vector<cv::Point2d> fixationsOn(const std::string& image) const;
    // Fixations on every other stimulus (the negatives of shuffled AUC).
    std::vector<cv::Point2d> fixationsOffExcept(const std::string& image) const;

    // The display the coordinates were recorded on, when the source says (COCO-Search18:
    // 1680x1050); fitToImage() uses it.
    void setDisplaySize(std::optional<cv::Size> size) { m_display = size; }
    std::optional<cv::Size> displaySize() const { return m_display; }
    // Puts the fixations of `image` in the pixels of an image of `imageSize` and records that
    // size. From display coordinates (a display size is set and the stimulus has no other size
    // yet) as if the image had been fitted to the display (DisplayTransform::fit); from an earlier
    // fit to another size by stretching; nothing to do when the size is already this one.
    void fitToImage(const std::string& image, cv::Size imageSize);

    void setImageSize(const std::string& image, cv::Size size);
    std::optional<cv::Size> imageSize(const std::string& image) const;
    void setObjects(const std::string& image, std::vector<GazeObject> objects);
    const std::vector<GazeObject>& objectsOf(const std::string& image) const;

    // Converts fixations and target boxes from display to image pixels, on one stimulus or all.
    void transformToImage(const std::string& image, const DisplayTransform& transform);
    void transformToImage(const DisplayTransform& transform);
    // Drops fixations outside their stimulus's known size; returns how many went.
    std::size_t dropOutside();
    // Sets each fixation's object (OAT's rule): the first object box holding it, else the object
    // whose box centre is nearest. Fixations on stimuli without objects keep -1.
    void assignObjects();

private:
    struct Stimulus {
        std::vector<Scanpath> scanpaths;
        std::optional<cv::Size> size;
        std::vector<GazeObject> objects;
    };
    std::map<std::string, Stimulus> m_stimuli;
    std::optional<cv::Size> m_display;
};

// The object index of a point under OAT's rule (see GazeDataset::assignObjects); -1 without boxes.
int objectAt(const std::vector<GazeObject>& objects, cv::Point2d point);

// Start times from durations: each fixation starts where the previous one ended (the first at
// `firstStart`). For sources that give durations only.
void setStartsFromDurations(Scanpath& scanpath, double firstStart = 0.0);

}  // namespace fovea
