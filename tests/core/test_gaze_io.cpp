// Eye-tracking readers on small hand-written files in each format (tests/data/gaze), their
// one-line errors on malformed input, the writers' round trip, and the display transform.
#include "core/gaze/gaze_data.h"
#include "core/gaze/gaze_io.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

using namespace fovea;
namespace fs = std::filesystem;

namespace {

const std::string kGaze = std::string(FOVEA_TEST_DATA_DIR) + "/gaze/";

class TempDir {
public:
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() / (std::string("fovea_gaze_io_") + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    ~TempDir() { fs::remove_all(m_dir); }
    std::string write(const std::string& name, const std::string& text) const {
        const std::string path = (m_dir / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }

private:
    fs::path m_dir;
};

// The message of the fovea::Error that `read` throws, or "" when it does not throw one.
template <typename Read>
std::string errorOf(Read read) {
    try {
        read();
    } catch (const Error& error) {
        return error.what();
    }
    return "";
}

const Scanpath& pathOf(const GazeDataset& data, const std::string& image, const std::string& subject) {
    for (const Scanpath& path : data.scanpathsOf(image)) {
        if (path.subject == subject) return path;
    }
    throw std::runtime_error("no scanpath of " + subject + " on " + image);
}

}  // namespace

TEST(DisplayTransform, FitLetterboxesCocoSearch18Display) {
    // A 640x480 COCO image fitted to the 1680x1050 display: scale 1050/480, pillarbox of 140 px.
    const DisplayTransform t = DisplayTransform::fit({1680, 1050}, {640, 480});
    EXPECT_DOUBLE_EQ(t.scaleX, 2.1875);
    EXPECT_DOUBLE_EQ(t.scaleY, 2.1875);
    EXPECT_DOUBLE_EQ(t.offsetX, 140.0);
    EXPECT_DOUBLE_EQ(t.offsetY, 0.0);
    const cv::Point2d image = t.toImage({140.0 + 2.1875 * 100.0, 2.1875 * 50.0});
    EXPECT_NEAR(image.x, 100.0, 1e-12);
    EXPECT_NEAR(image.y, 50.0, 1e-12);
    const cv::Point2d back = t.toDisplay(image);
    EXPECT_NEAR(back.x, 140.0 + 218.75, 1e-12);
    const DisplayTransform stretch = DisplayTransform::stretch({1680, 1050}, {840, 350});
    EXPECT_DOUBLE_EQ(stretch.scaleX, 2.0);
    EXPECT_DOUBLE_EQ(stretch.scaleY, 3.0);
    EXPECT_THROW(DisplayTransform::fit({0, 10}, {10, 10}), Error);
}

TEST(GazeReaders, CocoSearch18) {
    GazeDataset data = readCocoSearch18(kGaze + "cocosearch18_small.json");
    EXPECT_EQ(data.stimuli(), (std::vector<std::string>{"000000123456.jpg", "000000400966.jpg"}));
    EXPECT_EQ(data.scanpathCount(), 3u);
    EXPECT_EQ(data.fixationCount(), 6u);
    ASSERT_TRUE(data.displaySize().has_value());
    EXPECT_EQ(*data.displaySize(), cv::Size(1680, 1050));
    const Scanpath& path = pathOf(data, "000000400966.jpg", "2");
    EXPECT_EQ(path.task, "fork");
    ASSERT_EQ(path.fixations.size(), 3u);
    EXPECT_DOUBLE_EQ(path.fixations[1].x, 979.6);
    EXPECT_DOUBLE_EQ(path.fixations[1].y, 460.3);
    EXPECT_DOUBLE_EQ(path.fixations[1].duration, 0.143);
    EXPECT_DOUBLE_EQ(path.fixations[2].start, 0.212 + 0.143);
    ASSERT_TRUE(path.target.has_value());
    EXPECT_EQ(*path.target, cv::Rect2d(806, 414, 100, 85));
    EXPECT_FALSE(pathOf(data, "000000123456.jpg", "2").target.has_value());

    // The original 640x480 image: display pixels back to image pixels.
    data.fitToImage("000000400966.jpg", {640, 480});
    const Scanpath& fitted = pathOf(data, "000000400966.jpg", "2");
    EXPECT_NEAR(fitted.fixations[0].x, (848.2 - 140.0) / 2.1875, 1e-9);
    EXPECT_NEAR(fitted.fixations[0].y, 524.1 / 2.1875, 1e-9);
    EXPECT_NEAR(fitted.target->x, (806.0 - 140.0) / 2.1875, 1e-9);
    EXPECT_NEAR(fitted.target->width, 100.0 / 2.1875, 1e-9);
    EXPECT_EQ(*data.imageSize("000000400966.jpg"), cv::Size(640, 480));
    // Fitting again to the same size changes nothing; to half the size halves the coordinates.
    data.fitToImage("000000400966.jpg", {640, 480});
    EXPECT_NEAR(pathOf(data, "000000400966.jpg", "2").fixations[0].x, (848.2 - 140.0) / 2.1875, 1e-9);
    data.fitToImage("000000400966.jpg", {320, 240});
    EXPECT_NEAR(pathOf(data, "000000400966.jpg", "2").fixations[0].x, (848.2 - 140.0) / 2.1875 / 2.0, 1e-9);
    EXPECT_NEAR(pathOf(data, "000000400966.jpg", "2").fixations[0].y, 524.1 / 2.1875 / 2.0, 1e-9);
}

TEST(GazeReaders, CocoSearch18ErrorsNameEntryAndField) {
    TempDir dir;
    const std::string mismatch =
        dir.write("a.json", R"([{"name": "a.jpg", "subject": 1, "X": [1, 2], "Y": [1], "T": [100, 100]}])");
    EXPECT_EQ(errorOf([&] { readCocoSearch18(mismatch); }), mismatch + ": entry 0: field 'Y' has 1 values, X has 2");
    const std::string missing = dir.write("b.json", R"([{"name": "a.jpg", "subject": 1, "X": [1], "Y": [1], "T": [9]},
                                                        {"name": "b.jpg", "X": [1], "Y": [1], "T": [9]}])");
    EXPECT_EQ(errorOf([&] { readCocoSearch18(missing); }), missing + ": entry 1: field 'subject' is missing");
    const std::string text =
        dir.write("c.json", R"([{"name": "a.jpg", "subject": 1, "X": [1, "two"], "Y": [1, 2], "T": [9, 9]}])");
    EXPECT_EQ(errorOf([&] { readCocoSearch18(text); }), text + ": entry 0: field 'X' element 1 is not a number");
    const std::string length =
        dir.write("d.json", R"([{"name": "a.jpg", "subject": 1, "X": [1], "Y": [1], "T": [9], "length": 4}])");
    EXPECT_EQ(errorOf([&] { readCocoSearch18(length); }),
              length + ": entry 0: field 'length' says 4 fixations, X has 1");
    const std::string broken = dir.write("e.json", "[{\"name\": ");
    EXPECT_NE(errorOf([&] { readCocoSearch18(broken); }).find(broken + ": "), std::string::npos);
}

TEST(GazeReaders, EyeLinkAsc) {
    const GazeDataset data = readEyeLinkAsc(kGaze + "eyelink_small.asc");
    EXPECT_EQ(data.stimuli(), (std::vector<std::string>{"2", "cat.jpg"}));
    // Block 1: the left eye (the first one reported), the image's top-left at (320, 272), time
    // zero at SYNCTIME (10020), the fixation without a position skipped.
    const Scanpath& cat = pathOf(data, "cat.jpg", "eyelink_small");
    ASSERT_EQ(cat.fixations.size(), 2u);
    EXPECT_NEAR(cat.fixations[0].x, 645.2 - 320.0, 1e-9);
    EXPECT_NEAR(cat.fixations[0].y, 510.8 - 272.0, 1e-9);
    EXPECT_NEAR(cat.fixations[0].start, 0.001, 1e-12);
    EXPECT_NEAR(cat.fixations[0].duration, 0.2, 1e-12);
    EXPECT_NEAR(cat.fixations[1].x, 800.4 - 320.0, 1e-9);
    EXPECT_NEAR(cat.fixations[1].start, 0.231, 1e-12);
    EXPECT_NEAR(cat.fixations[1].duration, 0.25, 1e-12);
    // Block 2: named by TRIALID, time zero at START.
    const Scanpath& second = pathOf(data, "2", "eyelink_small");
    ASSERT_EQ(second.fixations.size(), 1u);
    EXPECT_NEAR(second.fixations[0].start, 0.01, 1e-12);
    EXPECT_DOUBLE_EQ(second.fixations[0].x, 100.0);

    GazeReadOptions right;
    right.eye = 'R';
    right.subject = "s01";
    const GazeDataset rightEye = readEyeLinkAsc(kGaze + "eyelink_small.asc", right);
    const Scanpath& rightCat = pathOf(rightEye, "cat.jpg", "s01");
    ASSERT_EQ(rightCat.fixations.size(), 1u);
    EXPECT_NEAR(rightCat.fixations[0].x, 650.0 - 320.0, 1e-9);
}

TEST(GazeReaders, EyeLinkAscErrorsNameTheLine) {
    TempDir dir;
    const std::string shortEfix = dir.write("a.asc", "START\t100\tLEFT\tEVENTS\nEFIX L 101 200 99 12.0\nEND\t300\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(shortEfix); }),
              shortEfix + ": line 2: EFIX needs eye, start, end, duration, x, y and pupil (5 fields)");
    const std::string badNumber =
        dir.write("b.asc", "START\t100\tLEFT\tEVENTS\nEFIX L 101 200 99 12.0 1x3 1000\nEND\t300\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(badNumber); }), badNumber + ": line 2: EFIX y is not a number ('1x3')");
    const std::string unterminated =
        dir.write("c.asc", "MSG 1 hello\nSTART\t100\tLEFT\tEVENTS\nEFIX L 101 200 99 12 13 1000\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(unterminated); }), unterminated + ": line 2: START without END");
    const std::string nested = dir.write("d.asc", "START\t100\tLEFT\nSTART\t200\tLEFT\nEND\t300\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(nested); }),
              nested + ": line 2: START inside the block that began on line 1");
    const std::string badEye = dir.write("e.asc", "START\t100\tLEFT\nEFIX X 101 200 99 12 13 1000\nEND\t300\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(badEye); }), badEye + ": line 2: EFIX eye must be L or R ('X')");
    const std::string shortSaccade = dir.write("f.asc", "START\t100\tLEFT\nESACC L 101 200 99 12 13\nEND\t300\n");
    EXPECT_NE(errorOf([&] { readEyeLinkAsc(shortSaccade); }).find(shortSaccade + ": line 2: ESACC needs"),
              std::string::npos);
    const std::string empty = dir.write("g.asc", "** nothing here\n");
    EXPECT_EQ(errorOf([&] { readEyeLinkAsc(empty); }),
              empty + ": has no START ... END block (not an EyeLink ASC file?)");
}

TEST(GazeReaders, TobiiProLabCollapsesSamplesByFixationIndex) {
    const GazeDataset data = readTobiiTsv(kGaze + "tobii_small.tsv");
    EXPECT_EQ(data.stimuli(), (std::vector<std::string>{"dog.jpg"}));
    const Scanpath& p1 = pathOf(data, "dog.jpg", "P01");
    ASSERT_EQ(p1.fixations.size(), 2u);  // two samples each; the row without a stimulus is skipped
    EXPECT_DOUBLE_EQ(p1.fixations[0].x, 400.0);
    EXPECT_DOUBLE_EQ(p1.fixations[0].duration, 0.25);
    EXPECT_NEAR(p1.fixations[0].start, 0.0, 1e-12);
    EXPECT_DOUBLE_EQ(p1.fixations[1].x, 520.5);  // decimal comma
    EXPECT_NEAR(p1.fixations[1].start, 0.25, 1e-9);
    EXPECT_DOUBLE_EQ(p1.fixations[1].duration, 0.3);
    // A fixation whose samples are interrupted by another row stays one fixation.
    const Scanpath& p2 = pathOf(data, "dog.jpg", "P02");
    ASSERT_EQ(p2.fixations.size(), 1u);
    EXPECT_DOUBLE_EQ(p2.fixations[0].y, 120.0);
}

TEST(GazeReaders, TobiiErrorsNameLineAndField) {
    TempDir dir;
    const std::string header =
        "Participant name\tEye movement type\tEye movement type index\tGaze event duration [ms]\tFixation point "
        "X\tFixation point Y\n";
    const std::string bad =
        dir.write("a.tsv", header + "P1\tFixation\t1\t100\t10\t20\nP1\tFixation\t2\t100\tleft\t20\n");
    EXPECT_EQ(errorOf([&] { readTobiiTsv(bad); }), bad + ": line 3: Fixation point X is not a number ('left')");
    const std::string noColumn = dir.write("b.tsv", "Participant name\tEye movement type\n");
    EXPECT_EQ(errorOf([&] { readTobiiTsv(noColumn); }),
              noColumn + ": line 1: no 'eye movement type index' column (not a Tobii Pro Lab export?)");
}

TEST(GazeReaders, OatBookCoversAssignObjects) {
    const GazeDataset data = readOatJson(kGaze + "oat_small.json");
    ASSERT_EQ(data.objectsOf("layout01.png").size(), 3u);
    EXPECT_EQ(data.objectsOf("layout01.png")[2].box, cv::Rect2d(80, 0, 40, 50));
    const Scanpath& u1 = pathOf(data, "layout01.png", "u1");
    ASSERT_EQ(u1.fixations.size(), 3u);
    EXPECT_EQ(u1.fixations[0].object, 0);
    EXPECT_EQ(u1.fixations[1].object, 1);
    EXPECT_EQ(u1.fixations[2].object, 2);  // outside every box: the nearest centre is (100, 25)
    EXPECT_EQ(u1.task, "cover_02");
    ASSERT_TRUE(u1.target.has_value());
    EXPECT_EQ(*u1.target, cv::Rect2d(40, 0, 40, 50));
    const Scanpath& u2 = pathOf(data, "layout01.png", "u2");
    EXPECT_EQ(u2.fixations[0].object, 2);
    EXPECT_DOUBLE_EQ(u2.fixations[0].duration, 0.18);

    TempDir dir;
    const std::string bad = dir.write("a.json", R"({"p.png": {"fixations": {"u1": [[1, 2], [3]]}}})");
    EXPECT_EQ(errorOf([&] { readOatJson(bad); }),
              bad + ": image 'p.png': field 'fixations.u1[1]' must be [x, y] or [x, y, duration in ms]");
    const std::string noFixations = dir.write("b.json", R"({"p.png": {"target": "x"}})");
    EXPECT_EQ(errorOf([&] { readOatJson(noFixations); }),
              noFixations + ": image 'p.png': field 'fixations' is missing");
}

TEST(GazeReaders, PlainCsvAndItsErrors) {
    const GazeDataset data = readFixationCsv(kGaze + "fixations_small.csv");
    EXPECT_EQ(data.stimuli(), (std::vector<std::string>{"a.png", "b.png"}));
    const Scanpath& s1 = pathOf(data, "a.png", "s1");
    ASSERT_EQ(s1.fixations.size(), 2u);
    EXPECT_DOUBLE_EQ(s1.fixations[0].x, 10.5);
    EXPECT_DOUBLE_EQ(s1.fixations[1].y, 40.5);
    EXPECT_DOUBLE_EQ(s1.fixations[1].start, 0.25);  // from the durations
    EXPECT_EQ(pathOf(data, "a.png", "s2").fixations.size(), 1u);

    TempDir dir;
    const std::string bad = dir.write("bad.csv", "x,y,duration\n1,2,0.1\n12,abc,0.2\n");
    EXPECT_EQ(errorOf([&] { readFixationCsv(bad); }), bad + ": line 3: y is not a number ('abc')");
    const std::string noDuration = dir.write("nod.csv", "x,y\n1,2\n");
    EXPECT_EQ(errorOf([&] { readFixationCsv(noDuration); }),
              noDuration + ": line 1: the header has no 'duration' column (seconds)");
    const std::string shortRow = dir.write("short.csv", "x,y,duration\n1,2\n");
    EXPECT_EQ(errorOf([&] { readFixationCsv(shortRow); }), shortRow + ": line 2: 2 fields, the header has 3");
    const std::string negative = dir.write("neg.csv", "x,y,duration\n1,2,-0.5\n");
    EXPECT_EQ(errorOf([&] { readFixationCsv(negative); }), negative + ": line 2: duration is negative");

    // MultiMatch's tab-separated start_x / start_y / duration files read as one scanpath.
    const std::string tsv = dir.write("mm.tsv", "start_x\tstart_y\tduration\n1.5e+02\t2\t0.1\n3\t4\t0.2\n");
    const Scanpath one = readScanpath(tsv);
    ASSERT_EQ(one.fixations.size(), 2u);
    EXPECT_DOUBLE_EQ(one.fixations[0].x, 150.0);
    EXPECT_EQ(one.subject, "mm");
    EXPECT_NE(
        errorOf([&] { readScanpath(kGaze + "fixations_small.csv"); }).find("holds 3 scanpaths; one is needed here"),
        std::string::npos);
}

TEST(GazeReaders, DetectsFormats) {
    EXPECT_EQ(detectGazeFormat(kGaze + "cocosearch18_small.json"), GazeFormat::CocoSearch18);
    EXPECT_EQ(detectGazeFormat(kGaze + "oat_small.json"), GazeFormat::OatJson);
    EXPECT_EQ(detectGazeFormat(kGaze + "eyelink_small.asc"), GazeFormat::EyeLinkAsc);
    EXPECT_EQ(detectGazeFormat(kGaze + "tobii_small.tsv"), GazeFormat::TobiiTsv);
    EXPECT_EQ(detectGazeFormat(kGaze + "fixations_small.csv"), GazeFormat::Csv);
    EXPECT_THROW(detectGazeFormat(kGaze + "nothing.xyz"), Error);
    EXPECT_EQ(readGazeFile(kGaze + "tobii_small.tsv").fixationCount(), 3u);
}

TEST(GazeWriters, CsvAndJsonRoundTrip) {
    GazeDataset data = readOatJson(kGaze + "oat_small.json");
    data.merge(readCocoSearch18(kGaze + "cocosearch18_small.json"));
    data.setImageSize("layout01.png", {120, 60});
    TempDir dir;
    writeGazeJson(dir.path("all.json"), data);
    EXPECT_EQ(detectGazeFormat(dir.path("all.json")), GazeFormat::FoveaJson);
    const GazeDataset back = readGazeFile(dir.path("all.json"));
    EXPECT_EQ(back.stimuli(), data.stimuli());
    EXPECT_EQ(back.fixationCount(), data.fixationCount());
    EXPECT_EQ(*back.imageSize("layout01.png"), cv::Size(120, 60));
    EXPECT_EQ(back.objectsOf("layout01.png").size(), 3u);
    EXPECT_EQ(*back.displaySize(), cv::Size(1680, 1050));
    const Scanpath& u1 = pathOf(back, "layout01.png", "u1");
    EXPECT_EQ(u1.fixations[2].object, 2);
    EXPECT_EQ(*u1.target, cv::Rect2d(40, 0, 40, 50));

    writeFixationCsv(dir.path("all.csv"), data);
    const GazeDataset csv = readFixationCsv(dir.path("all.csv"));
    EXPECT_EQ(csv.fixationCount(), data.fixationCount());
    const Scanpath& coco = pathOf(csv, "000000400966.jpg", "2");
    ASSERT_EQ(coco.fixations.size(), 3u);
    EXPECT_DOUBLE_EQ(coco.fixations[1].x, 979.6);
    EXPECT_DOUBLE_EQ(coco.fixations[2].start, 0.355);
    EXPECT_EQ(pathOf(csv, "layout01.png", "u1").fixations[1].object, 1);
}

TEST(GazeDataset, DropsFixationsOutsideTheImage) {
    GazeDataset data = readFixationCsv(kGaze + "fixations_small.csv");
    data.setImageSize("a.png", {40, 50});  // (50, 60) of s2 lies outside, (30, 40.5) inside
    EXPECT_EQ(data.dropOutside(), 1u);
    EXPECT_EQ(data.fixationsOn("a.png").size(), 2u);
    EXPECT_EQ(data.fixationsOffExcept("a.png").size(), 1u);
}

TEST(GazeObjects, BoxesFromBorderMaskInReadingOrder) {
    cv::Mat1b mask(60, 100, uchar(0));
    cv::rectangle(mask, cv::Rect(55, 3, 30, 20), cv::Scalar(255), 1);   // top right
    cv::rectangle(mask, cv::Rect(5, 5, 30, 20), cv::Scalar(255), 1);    // top left (same 10 px row)
    cv::rectangle(mask, cv::Rect(20, 35, 40, 20), cv::Scalar(255), 1);  // bottom
    const std::vector<GazeObject> boxes = boxesFromBorderMask(mask);
    ASSERT_EQ(boxes.size(), 3u);
    EXPECT_EQ(boxes[0].box, cv::Rect2d(5, 5, 30, 20));
    EXPECT_EQ(boxes[1].box, cv::Rect2d(55, 3, 30, 20));
    EXPECT_EQ(boxes[2].box, cv::Rect2d(20, 35, 40, 20));
}
