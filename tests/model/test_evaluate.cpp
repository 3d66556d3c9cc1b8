// fovea eval's pieces: confidence intervals, a small run on the fixture model, the tables, and
// folders of images with masks or boxes.
#include "core/explain/evaluate.h"
#include "core/image/preprocess.h"
#include "core/io/image_io.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace fovea;

namespace {

TEST(Evaluate, MeanWithConfidenceInterval) {
    const MeanCI ci = meanWithCI({1.0, 2.0, 3.0, 4.0, std::nan("")});
    EXPECT_EQ(ci.count, 4);
    EXPECT_DOUBLE_EQ(ci.mean, 2.5);
    // sample sd = sqrt(5/3); half width = 1.96 sd / sqrt(4)
    EXPECT_NEAR(ci.halfWidth, 1.96 * std::sqrt(5.0 / 3.0) / 2.0, 1e-12);
    EXPECT_EQ(meanWithCI({}).count, 0);
}

TEST(Evaluate, MethodAgreementOnHandMadeMaps) {
    // A 2x2 grid, two images. "a" ranks the cells 0 < 1 < 2 < 3, "same" is a monotone transform of
    // it (Spearman 1, same top cell), "reversed" ranks them backwards (Spearman -1, top-1 cell
    // disjoint: IoU 0), and "flat" is constant on image 0 (no ranking: left out of its mean).
    EvalMaps maps;
    maps.grid = cv::Size(2, 2);
    const cv::Mat1f a = (cv::Mat1f(2, 2) << 0.f, 1.f, 2.f, 3.f);
    for (int image = 0; image < 2; ++image) {
        maps.add("a", image, a);
    }
    for (int image = 0; image < 2; ++image) maps.add("same", image, a.mul(a) + 5.0f);
    for (int image = 0; image < 2; ++image) maps.add("reversed", image, 3.0f - a);
    maps.add("flat", 0, cv::Mat1f(2, 2, 1.0f));
    maps.add("flat", 1, a);
    ASSERT_EQ(maps.methods.size(), 4u);
    // k = round(0.25 * 4) = 1 cell.
    const std::vector<AgreementCell> cells = methodAgreement(maps, 0.25);
    ASSERT_EQ(cells.size(), 6u);
    auto find = [&](const std::string& x, const std::string& y) {
        for (const AgreementCell& c : cells) {
            if (c.first == x && c.second == y) return c;
        }
        ADD_FAILURE() << x << " / " << y;
        return AgreementCell{};
    };
    EXPECT_NEAR(find("a", "same").spearman.mean, 1.0, 1e-12);
    EXPECT_NEAR(find("a", "same").topK.mean, 1.0, 1e-12);
    EXPECT_NEAR(find("a", "reversed").spearman.mean, -1.0, 1e-12);
    EXPECT_NEAR(find("a", "reversed").topK.mean, 0.0, 1e-12);
    EXPECT_EQ(find("a", "flat").spearman.count, 1);  // image 0 has no ranking
    EXPECT_NEAR(find("a", "flat").spearman.mean, 1.0, 1e-12);
    EXPECT_EQ(find("a", "flat").topK.count, 2);
    const std::string markdown = agreementMarkdown(cells, maps, 0.25);
    EXPECT_NE(markdown.find("not correctness"), std::string::npos);
    EXPECT_NE(markdown.find("| reversed | -1.00 | -1.00 | 1 |"), std::string::npos) << markdown;
    const std::string csv = agreementCsv(cells);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
    // Maps at other resolutions are resampled to the grid.
    maps.add("big", 0, cv::Mat1f(8, 8, 2.0f));
    EXPECT_EQ(maps.maps.back()[0].size(), cv::Size(2, 2));
}

TEST(Evaluate, SmallRunOnTheFixtureModel) {
    const std::unique_ptr<Model> model = openModel(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny");
    EvalOptions options;
    options.methods = {"raw", "chefer"};
    options.scenes = 3;
    options.pixelsPerStep = 256;
    options.scene.targetMinSize = 12;
    options.scene.targetMaxSize = 16;
    options.scene.distractorMinSize = 4;
    options.scene.distractorMaxSize = 6;
    NullProgress progress;
    int rowsSeen = 0;
    const std::vector<EvalRow> rows = evaluateMethods(*model, options, progress, [&](const EvalRow&) { ++rowsSeen; });
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rowsSeen, 2);
    for (const EvalRow& row : rows) {
        EXPECT_EQ(row.pointingStrict.count, 3);
        EXPECT_GE(row.energy.mean, 0.0);
        EXPECT_LE(row.energy.mean, 1.0);
        EXPECT_GE(row.deletion.mean, 0.0);
        EXPECT_LE(row.deletion.mean, 1.0);
        EXPECT_GE(row.insertion.mean, 0.0);
        EXPECT_LE(row.insertion.mean, 1.0);
        EXPECT_GT(row.msPerImage, 0.0);
    }
    const std::string csv = leaderboardCsv(rows);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
    EXPECT_NE(csv.find("chefer,3,"), std::string::npos);
    const std::string markdown = leaderboardMarkdown(rows, "timm-vit-tiny", options, "3 scenes");
    EXPECT_NE(markdown.find("| raw |"), std::string::npos);
    // The plot: one bar per method and metric.
    const std::string svg = leaderboardSvg(rows);
    std::size_t bars = 0;
    for (std::size_t at = svg.find("class=\"bar\""); at != std::string::npos; at = svg.find("class=\"bar\"", at + 1)) ++bars;
    EXPECT_EQ(bars, 2u * 4u);
    EXPECT_NE(svg.find("chefer"), std::string::npos);
    const cv::Mat png = leaderboardPlot(rows);
    EXPECT_EQ(png.type(), CV_8UC3);
    EXPECT_GT(cv::countNonZero(png.reshape(1) != 255), 1000);
    EXPECT_EQ(markdown.find("ROAD"), std::string::npos);  // not measured, not shown
    options.methods = {"nonsense"};
    EXPECT_THROW(evaluateMethods(*model, options, progress), Error);
}

namespace fs = std::filesystem;

// Small scenes for the fixture model's 32x32 input.
SceneOptions smallScenes() {
    SceneOptions scene;
    scene.targetMinSize = 12;
    scene.targetMaxSize = 16;
    scene.distractorMinSize = 4;
    scene.distractorMaxSize = 6;
    return scene;
}

class EvaluateFolder : public ::testing::Test {
protected:
    static constexpr std::uint64_t kFirstSeed = 4242;
    static constexpr int kScenes = 3;

    void SetUp() override {
        m_model = openModel(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny");
        m_root = fs::temp_directory_path() /
                 ("fovea_eval_folder_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(m_root);
        fs::create_directories(m_root);
    }
    void TearDown() override { fs::remove_all(m_root); }

    // The scenes evaluateMethods would generate, saved as PNG with their target masks (and/or a
    // boxes.csv of their target boxes) in `name`.
    std::string writeScenes(const std::string& name, bool masks, bool boxes) const {
        const fs::path folder = m_root / name;
        fs::create_directories(folder / "masks");
        if (!masks) fs::remove(folder / "masks");
        SceneOptions options = smallScenes();
        options.size = m_model->spec().imageHeight;
        std::ofstream csv;
        if (boxes) {
            csv.open(folder / "boxes.csv");
            csv << "file,x1,y1,x2,y2\n";
        }
        for (int i = 0; i < kScenes; ++i) {
            const Scene scene = generateScene(kFirstSeed + std::uint64_t(i), options);
            const std::string file = "scene_" + std::to_string(i) + ".png";
            writeImage((folder / file).string(), scene.image);
            if (masks) writeImage((folder / "masks" / file).string(), scene.targetMask);
            if (boxes) {
                const cv::Rect b = scene.targetBox;
                csv << file << ',' << b.x << ',' << b.y << ',' << b.x + b.width << ',' << b.y + b.height << '\n';
            }
        }
        return folder.string();
    }

    EvalOptions options() const {
        EvalOptions result;
        result.methods = {"raw", "rollout"};
        result.scenes = kScenes;
        result.firstSeed = kFirstSeed;
        result.scene = smallScenes();
        result.pixelsPerStep = 256;
        result.road = true;
        result.roadPercentages = {20, 60};
        return result;
    }

    // The error's one line, which must name `file`.
    std::string folderError(const std::string& folder, const std::string& boxes, const std::string& file) const {
        try {
            EvalDataset::folder(folder, boxes, m_model->spec());
        } catch (const Error& error) {
            const std::string text = error.what();
            EXPECT_EQ(text.find('\n'), std::string::npos) << text;
            EXPECT_NE(text.find(file), std::string::npos) << text;
            return text;
        }
        ADD_FAILURE() << "no error for " << folder;
        return {};
    }

    std::unique_ptr<Model> m_model;
    fs::path m_root;
};

TEST_F(EvaluateFolder, MasksGiveTheSameScoresAsTheGeneratedScenes) {
    const EvalOptions generated = options();
    EvalOptions folder = options();
    folder.dataFolder = writeScenes("masks", true, false);
    NullProgress progress;
    const std::vector<EvalRow> expected = evaluateMethods(*m_model, generated, progress);
    const std::vector<EvalRow> actual = evaluateMethods(*m_model, folder, progress);
    ASSERT_EQ(actual.size(), 2u);
    for (std::size_t r = 0; r < actual.size(); ++r) {
        EXPECT_EQ(actual[r].images, kScenes);
        EXPECT_EQ(actual[r].pointingStrict.count, kScenes);
        EXPECT_DOUBLE_EQ(actual[r].pointingStrict.mean, expected[r].pointingStrict.mean);
        EXPECT_DOUBLE_EQ(actual[r].pointing15.mean, expected[r].pointing15.mean);
        EXPECT_DOUBLE_EQ(actual[r].energy.mean, expected[r].energy.mean);
        EXPECT_DOUBLE_EQ(actual[r].deletion.mean, expected[r].deletion.mean);
        EXPECT_DOUBLE_EQ(actual[r].insertion.mean, expected[r].insertion.mean);
        EXPECT_DOUBLE_EQ(actual[r].roadMorf.mean, expected[r].roadMorf.mean);
        EXPECT_DOUBLE_EQ(actual[r].roadLerf.mean, expected[r].roadLerf.mean);
        EXPECT_EQ(actual[r].roadMorf.count, kScenes);
        EXPECT_GE(actual[r].roadMorf.mean, 0.0);
        EXPECT_LE(actual[r].roadLerf.mean, 1.0);
    }
    // ROAD shows in every output.
    const std::string csv = leaderboardCsv(actual);
    EXPECT_NE(csv.find("road_morf,road_morf_ci,road_lerf,road_lerf_ci"), std::string::npos);
    const std::string markdown =
        leaderboardMarkdown(actual, "timm-vit-tiny", folder, evalDataset(folder, m_model->spec()).describe());
    EXPECT_NE(markdown.find("ROAD MoRF"), std::string::npos);
    EXPECT_NE(markdown.find("3 images in " + folder.dataFolder + " with masks"), std::string::npos);
    const std::string svg = leaderboardSvg(actual);
    std::size_t bars = 0;
    for (std::size_t at = svg.find("class=\"bar\""); at != std::string::npos; at = svg.find("class=\"bar\"", at + 1)) {
        ++bars;
    }
    EXPECT_EQ(bars, 2u * 6u);
}

TEST_F(EvaluateFolder, BoxesContainTheMasks) {
    EvalOptions masks = options(), boxes = options(), found = options();
    masks.road = boxes.road = found.road = false;
    masks.dataFolder = writeScenes("both", true, true);
    boxes.dataFolder = masks.dataFolder;
    boxes.boxesFile = masks.dataFolder + "/boxes.csv";
    found.dataFolder = writeScenes("boxes", false, true);  // no masks/: boxes.csv is picked up
    NullProgress progress;
    const std::vector<EvalRow> fromMasks = evaluateMethods(*m_model, masks, progress);
    const std::vector<EvalRow> fromBoxes = evaluateMethods(*m_model, boxes, progress);
    const std::vector<EvalRow> fromFound = evaluateMethods(*m_model, found, progress);
    for (std::size_t r = 0; r < fromMasks.size(); ++r) {
        // A box holds its object's mask: at least as many hits and as much energy.
        EXPECT_GE(fromBoxes[r].pointingStrict.mean, fromMasks[r].pointingStrict.mean);
        EXPECT_GE(fromBoxes[r].energy.mean, fromMasks[r].energy.mean - 1e-12);
        EXPECT_DOUBLE_EQ(fromFound[r].energy.mean, fromBoxes[r].energy.mean);
        EXPECT_DOUBLE_EQ(fromBoxes[r].deletion.mean, fromMasks[r].deletion.mean);  // the same image and map
    }
    // The box's pixels, exactly.
    const EvalDataset data = EvalDataset::folder(found.dataFolder, "", m_model->spec());
    SceneOptions sceneOptions = smallScenes();
    sceneOptions.size = 32;
    const Scene scene = generateScene(kFirstSeed, sceneOptions);
    cv::Mat expected = cv::Mat::zeros(32, 32, CV_8U);
    expected(scene.targetBox).setTo(255);
    EXPECT_EQ(cv::countNonZero(data.sample(0).mask != expected), 0);
    EXPECT_EQ(data.sample(0).label, -1);
}

TEST_F(EvaluateFolder, GroundTruthFollowsThePreprocessingAndLabelsPickTheClass) {
    // A 48x40 photo: the fixture resizes the shorter side to 32 and crops the centre.
    const fs::path folder = m_root / "photo";
    fs::create_directories(folder);
    writeImage((folder / "wide.jpg").string(), cv::Mat(40, 48, CV_8UC3, cv::Scalar(10, 200, 30)));
    writeImage((folder / "tall.png").string(), cv::Mat(48, 40, CV_8UC3, cv::Scalar(200, 10, 30)));
    std::ofstream(folder / "boxes.csv")
        << "# object boxes\nwide.jpg, 0, 0, 24, 40, class_3\nwide.jpg,24,0,30,10\ntall.png,0,0,40,48\n";
    std::ofstream(folder / "labels.csv") << "file,label\ntall.png,2\n";
    ModelSpec spec = m_model->spec();
    spec.preprocessing.resizeShorter = 32;
    spec.preprocessing.centerCrop = true;
    const EvalDataset data = EvalDataset::folder(folder.string(), "", spec);
    ASSERT_EQ(data.size(), 2);
    const EvalSample tall = data.sample(0), wide = data.sample(1);  // name order
    EXPECT_EQ(tall.name, "tall.png");
    EXPECT_EQ(tall.label, 2);
    EXPECT_EQ(wide.label, 3);
    ASSERT_EQ(wide.mask.size(), cv::Size(32, 32));
    cv::Mat box = cv::Mat::zeros(40, 48, CV_8U);
    box(cv::Rect(0, 0, 24, 40)).setTo(255);
    box(cv::Rect(24, 0, 6, 10)).setTo(255);
    EXPECT_EQ(cv::countNonZero(wide.mask != modelViewMask(box, spec.preprocessing)), 0);
    EXPECT_EQ(cv::countNonZero(tall.mask), 32 * 32);
    EXPECT_NE(data.describe().find("2 images in"), std::string::npos);
}

TEST_F(EvaluateFolder, BadInputGivesOneLineNamingTheFile) {
    const std::string empty = (m_root / "empty").string();
    fs::create_directories(empty);
    EXPECT_NE(folderError(empty, "", empty).find("no images"), std::string::npos);

    const std::string folder = writeScenes("bad", true, false);
    const std::string mask = folder + "/masks/scene_1.png";
    writeImage(mask, cv::Mat::zeros(20, 20, CV_8U));
    EXPECT_NE(folderError(folder, "", mask).find("the mask is 20x20 but scene_1.png is 32x32"), std::string::npos);
    std::ofstream(mask, std::ios::trunc) << "not a png";
    folderError(folder, "", mask);
    fs::remove(mask);
    EXPECT_NE(folderError(folder, "", "scene_1.png").find("no mask for scene_1.png"), std::string::npos);
    writeImage(mask, cv::Mat::zeros(32, 32, CV_8U));
    EXPECT_NE(folderError(folder, "", mask).find("no object pixels"), std::string::npos);

    const std::string boxes = (m_root / "boxes.csv").string();
    auto withBoxes = [&](const std::string& text) {
        std::ofstream(boxes, std::ios::trunc) << "file,x1,y1,x2,y2,label\n" << text;
        return folderError(folder, boxes, boxes);
    };
    const std::string all = "scene_0.png,1,1,9,9\nscene_1.png,1,1,9,9\nscene_2.png,1,1,9,9\n";
    EXPECT_NE(withBoxes(all + "scene_0.png,1,2,3\n")
                  .find("boxes.csv:5: expected file,x1,y1,x2,y2[,label], got 'scene_0.png,1,2,3'"),
              std::string::npos);
    EXPECT_NE(withBoxes(all + "scene_0.png,a,2,3,4\n").find("boxes.csv:5: expected"), std::string::npos);
    EXPECT_NE(withBoxes("scene_0.png,5,5,5,9\n").find("boxes.csv:2: the box is empty"), std::string::npos);
    EXPECT_NE(withBoxes("scene_0.png,20,20,33,30\n" + all)
                  .find("boxes.csv:2: box 20,20,33,30 reaches outside scene_0.png (32x32)"),
              std::string::npos);
    EXPECT_NE(withBoxes(all + "scene_0.png,-1,0,4,4\n").find("reaches outside"), std::string::npos);
    EXPECT_NE(withBoxes(all + "cat.png,1,1,4,4\n").find("boxes.csv:5: no image cat.png in"), std::string::npos);
    EXPECT_NE(withBoxes("scene_0.png,1,1,9,9\n").find("no box for scene_1.png"), std::string::npos);
    EXPECT_NE(withBoxes(all + "scene_0.png,1,1,2,2,cat\n")
                  .find("'cat' is neither a class index nor one of the model's labels"),
              std::string::npos);
    EXPECT_NE(withBoxes(all + "scene_0.png,1,1,2,2,7\n").find("class 7 is out of range (the model has 5 classes)"),
              std::string::npos);
    EXPECT_NE(
        withBoxes(all + "scene_0.png,1,1,2,2,1\nscene_0.png,1,1,2,2,2\n").find("label '2' for scene_0.png differs"),
        std::string::npos);
    EXPECT_NE(folderError((m_root / "nowhere").string(), "", "nowhere").find("no such folder"), std::string::npos);
    EXPECT_NE(folderError(folder, (m_root / "none.csv").string(), "none.csv").find("no such file"), std::string::npos);
    fs::remove_all(folder + "/masks");
    EXPECT_NE(folderError(folder, "", folder).find("no ground truth"), std::string::npos);
}

}  // namespace
