// The segmentation view's settings in a session (round trip, relative paths, a missing ground
// truth file is one warning, bad values are one-line errors) and ground truth for an input (PNG
// label masks through the model's resize, COCO objects, tensor inputs), checked against labels
// built by hand.
#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/segment/ground_truth.h"
#include "core/session/session.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

class SegmentSettingsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        m_dir =
            fs::temp_directory_path() /
            ("fovea_segment_settings_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(m_dir);
        fs::create_directories(m_dir / "images");
        fs::create_directories(m_dir / "gt");
    }
    void TearDown() override { fs::remove_all(m_dir); }
    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(m_dir / name) << text;
        return (m_dir / name).string();
    }
    fs::path m_dir;
};

TEST_F(SegmentSettingsTest, RoundTripThroughASessionWithRelativePaths) {
    const std::string image = write("images/a.png", "x"), truth = write("gt/a.png", "x");
    SessionState state;
    state.inputs = {image};
    state.currentInput = 0;
    state.segment.method = "kmeans-parts";
    state.segment.params["kmeans-parts"]["k"] = 6;
    state.segment.params["lost"]["k"] = 50;  // same name, other method, other meaning
    state.segment.layer = 2;
    state.segment.mapMethod = "chefer";
    state.segment.opacity = 0.25f;
    state.segment.contours = false;
    state.segment.boxes = false;
    state.segment.showGroundTruth = false;
    state.segment.hidden = {1, 3};
    state.segment.groundTruth[image] = truth;
    const std::string path = (m_dir / "s.fovea").string();
    saveSession(path, state);
    const nlohmann::json raw = readJsonFile(path);
    EXPECT_EQ(raw["segment"]["ground_truth"]["images/a.png"], "gt/a.png");
    const SessionLoad load = loadSession(path);
    EXPECT_TRUE(load.warnings.empty());
    EXPECT_EQ(load.state.segment.toJson(), state.segment.toJson());
    EXPECT_EQ(load.state.segment.groundTruthFor(image), truth);
    EXPECT_EQ(load.state.segment.resolvedParams().at("k"), 6.0);
    EXPECT_TRUE(load.state.segment.isHidden(3));
    EXPECT_FALSE(load.state.segment.isHidden(2));
    // Defaults come from the method's parameter list.
    SegmentSettings defaults;
    EXPECT_EQ(defaults.resolvedParams().at("tau"), 0.2);
}

TEST_F(SegmentSettingsTest, MissingGroundTruthIsOneWarningAndTheRestOpens) {
    const std::string image = write("images/a.png", "x"), other = write("images/b.png", "x");
    const std::string kept = write("gt/b.png", "x");
    SessionState state;
    state.inputs = {image, other};
    state.currentInput = 0;
    state.segment.method = "lost";
    state.segment.groundTruth[image] = (m_dir / "gt/gone.png").string();
    state.segment.groundTruth[other] = kept;
    const std::string path = (m_dir / "s.fovea").string();
    saveSession(path, state);
    const SessionLoad load = loadSession(path);
    ASSERT_EQ(load.warnings.size(), 1u);
    EXPECT_NE(load.warnings[0].find("gone.png"), std::string::npos);
    EXPECT_EQ(load.warnings[0].find('\n'), std::string::npos);
    EXPECT_EQ(load.state.segment.groundTruthFor(image), "");
    EXPECT_EQ(load.state.segment.groundTruthFor(other), kept);
    EXPECT_EQ(load.state.segment.method, "lost");
    EXPECT_EQ(load.state.inputs.size(), 2u);
}

TEST_F(SegmentSettingsTest, BadValuesAreOneLineErrorsNamingTheSession) {
    const auto fails = [&](const std::string& segment, const std::string& expected) {
        const std::string path = write("bad.fovea", "{\"fovea_session\": 1, \"segment\": " + segment + "}");
        try {
            loadSession(path);
            ADD_FAILURE() << segment << " was accepted";
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find("bad.fovea"), std::string::npos) << message;
            EXPECT_NE(message.find(expected), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        }
    };
    fails("{\"method\": \"watershed\"}", "watershed");
    fails("{\"params\": {\"tokencut\": {\"tau\": 5}}}", "tau");
    fails("{\"params\": {\"tokencut\": {\"tau\": \"high\"}}}", "tau");
    fails("{\"opacity\": 1.5}", "opacity");
    fails("{\"hidden\": \"all\"}", "hidden");
    fails("{\"layer\": -3}", "layer");
    fails("[]", "object");
    // An old session without the field opens with the defaults.
    const std::string path = write("old.fovea", "{\"fovea_session\": 1}");
    EXPECT_EQ(loadSession(path).state.segment.toJson(), SegmentSettings{}.toJson());
}

TEST_F(SegmentSettingsTest, LabelMaskGoesThroughTheModelsResize) {
    ModelSpec spec;
    spec.preprocessing.height = spec.preprocessing.width = 64;
    spec.preprocessing.resizeHeight = spec.preprocessing.resizeWidth = 64;
    const std::string image = (m_dir / "images/a.png").string();
    ASSERT_TRUE(cv::imwrite(image, cv::Mat3b(32, 32, cv::Vec3b(10, 20, 30))));
    cv::Mat1w labels(32, 32, ushort(0));
    labels(cv::Rect(4, 6, 8, 5)).setTo(2);
    labels(cv::Rect(20, 20, 3, 9)).setTo(300);  // past one byte: the high byte comes along
    const std::string truthPath = (m_dir / "gt/a.png").string();
    ASSERT_TRUE(cv::imwrite(truthPath, labels));
    const cv::Mat1i truth = readGroundTruth(truthPath, image, spec, cv::Size(64, 64));
    ASSERT_EQ(truth.size(), cv::Size(64, 64));
    int wrong = 0;
    for (int y = 0; y < 64; ++y) {
        for (int x = 0; x < 64; ++x) wrong += truth(y, x) != int(labels(y / 2, x / 2)) ? 1 : 0;  // 2x nearest neighbour
    }
    EXPECT_EQ(wrong, 0);
    // A mask that is not the image's size names itself and both sizes.
    const std::string small = (m_dir / "gt/small.png").string();
    ASSERT_TRUE(cv::imwrite(small, cv::Mat1b(16, 32, uchar(1))));
    try {
        readGroundTruth(small, image, spec, cv::Size(64, 64));
        ADD_FAILURE() << "a 32x16 mask for a 32x32 image was accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("small.png: is 32x16 but a.png is 32x32"), std::string::npos)
            << error.what();
    }
    // A tensor input has no original picture: the mask is taken at the model's size.
    const std::string tensor = (m_dir / "images/t.npy").string();
    writeNpy(tensor, NpyArray::fromFloats({1, 3, 32, 32}, std::vector<float>(3 * 32 * 32, 0.0f)));
    EXPECT_EQ(cv::countNonZero(readGroundTruth(truthPath, tensor, spec, cv::Size(32, 32)) != cv::Mat1i(labels)), 0);
    EXPECT_THROW(readGroundTruth(truthPath, tensor, spec, cv::Size(64, 64)), Error);
}

TEST_F(SegmentSettingsTest, CocoObjectsBecomeLabelsAndCrowdsVoid) {
    ModelSpec spec;  // a 10x20 model input: the image as it is
    spec.preprocessing.height = spec.preprocessing.resizeHeight = 10;
    spec.preprocessing.width = spec.preprocessing.resizeWidth = 20;
    const std::string image = (m_dir / "images/street.png").string();
    ASSERT_TRUE(cv::imwrite(image, cv::Mat3b(10, 20, cv::Vec3b(0, 0, 0))));
    // Two polygons (rectangles) and a crowd region as uncompressed RLE (column-major runs).
    const nlohmann::json coco = {{"images", {{{"id", 1}, {"file_name", "street.png"}, {"width", 20}, {"height", 10}}}},
                                 {"annotations",
                                  {{{"id", 1},
                                    {"image_id", 1},
                                    {"category_id", 1},
                                    {"iscrowd", 0},
                                    {"bbox", {2, 2, 4, 3}},
                                    {"segmentation", {{2, 2, 6, 2, 6, 5, 2, 5}}}},
                                   {{"id", 2},
                                    {"image_id", 1},
                                    {"category_id", 2},
                                    {"iscrowd", 0},
                                    {"bbox", {10, 1, 5, 5}},
                                    {"segmentation", {{10, 1, 15, 1, 15, 6, 10, 6}}}},
                                   {{"id", 3},
                                    {"image_id", 1},
                                    {"category_id", 2},
                                    {"iscrowd", 1},
                                    {"bbox", {18, 0, 2, 10}},
                                    {"segmentation", {{"counts", {180, 20}}, {"size", {10, 20}}}}}}},
                                 {"categories", {{{"id", 1}, {"name", "a"}}, {{"id", 2}, {"name", "b"}}}}};
    const std::string json = (m_dir / "gt/instances.json").string();
    writeJsonFile(json, coco);
    const cv::Mat1i truth = readGroundTruth(json, image, spec, cv::Size(20, 10));
    ASSERT_EQ(truth.size(), cv::Size(20, 10));
    EXPECT_EQ(truth(3, 3), 1);
    EXPECT_EQ(truth(3, 12), 2);
    EXPECT_EQ(truth(5, 19), 255);  // columns 18 and 19: the crowd, void
    EXPECT_EQ(truth(8, 8), 0);
    const cv::Mat1b foreground = groundTruthForeground(truth);
    EXPECT_EQ(foreground(3, 3), 255);
    EXPECT_EQ(foreground(5, 19), 0);
    // An image the file does not annotate.
    const std::string stranger = (m_dir / "images/other.png").string();
    ASSERT_TRUE(cv::imwrite(stranger, cv::Mat3b(10, 20, cv::Vec3b(0, 0, 0))));
    EXPECT_THROW(readGroundTruth(json, stranger, spec, cv::Size(20, 10)), Error);
}

TEST(GroundTruthIoU, UpsamplesTheLabelsAsTheEvaluationDoes) {
    cv::Mat1i labels = (cv::Mat1i(2, 2) << 1, 0, 0, 0);  // the top-left quarter
    cv::Mat1i truth(4, 4, 0);
    truth(cv::Rect(0, 0, 2, 2)).setTo(3);
    truth(3, 3) = 1;    // one more object pixel: union 5, intersection 4
    truth(0, 3) = 255;  // void does not count
    EXPECT_DOUBLE_EQ(groundTruthIoU(labels, truth), 4.0 / 5.0);
}

}  // namespace
