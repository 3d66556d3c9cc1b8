// Sessions (.fovea): round trip, relative paths, forgiving open, clear errors; view maps.
#include "core/io/json_file.h"
#include "core/session/session.h"
#include "core/session/view_map.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

class Session : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("fovea_session_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::remove_all(m_dir);
        fs::create_directories(m_dir / "images");
        fs::create_directories(m_dir / "model");
        for (const char* name : {"a.png", "b.png"}) std::ofstream(m_dir / "images" / name) << "x";
    }
    void TearDown() override { fs::remove_all(m_dir); }
    fs::path m_dir;
};

TEST_F(Session, RoundTripsEverySetting) {
    SessionState state;
    state.modelPath = (m_dir / "model").string();
    state.inputs = {(m_dir / "images/a.png").string(), (m_dir / "images/b.png").string()};
    state.currentInput = 1;
    state.view.method = "rollout";
    state.view.layer = 2;
    state.view.heads = "3";
    state.view.query = 7;
    state.view.discardRatio = 0.25f;
    state.view.rangeMode = "percentile";
    state.view.percentile = 95.0f;
    state.view.threshold = 0.3f;
    state.view.figure.colormap = "turbo";
    state.view.figure.opacity = 0.7f;
    state.view.figure.smooth = true;
    state.comparison = {state.view, ViewSettings{}};
    state.comparison[1].method = "rollout";
    state.comparisonSharedRange = false;
    state.comparisonInputs = {(m_dir / "images/b.png").string(), ""};
    const std::string path = (m_dir / "study.fovea").string();
    saveSession(path, state);
    const SessionLoad load = loadSession(path);
    EXPECT_TRUE(load.warnings.empty());
    EXPECT_EQ(load.state.toJson(), state.toJson());
    // Paths below the session's folder are stored relative to it.
    const nlohmann::json raw = readJsonFile(path);
    EXPECT_EQ(raw["model"], "model");
    EXPECT_EQ(raw["inputs"][0], "images/a.png");
}

TEST_F(Session, MovedFolderStillOpens) {
    SessionState state;
    state.modelPath = (m_dir / "model").string();
    state.inputs = {(m_dir / "images/a.png").string()};
    state.currentInput = 0;
    saveSession((m_dir / "study.fovea").string(), state);
    const fs::path moved = m_dir.string() + "_moved";
    fs::remove_all(moved);
    fs::rename(m_dir, moved);
    const SessionLoad load = loadSession((moved / "study.fovea").string());
    EXPECT_TRUE(load.warnings.empty());
    EXPECT_EQ(fs::path(load.state.inputs.at(0)), moved / "images/a.png");
    fs::rename(moved, m_dir);
}

TEST_F(Session, MissingModelAndInputsAreWarningsAndTheRestOpens) {
    SessionState state;
    state.modelPath = (m_dir / "gone-model").string();
    state.inputs = {(m_dir / "images/a.png").string(), (m_dir / "images/missing.png").string(),
                    (m_dir / "images/b.png").string()};
    state.currentInput = 2;
    state.view.figure.colormap = "magma";
    const std::string path = (m_dir / "s.fovea").string();
    saveSession(path, state);
    const SessionLoad load = loadSession(path);
    ASSERT_EQ(load.warnings.size(), 2u);
    EXPECT_NE(load.warnings[0].find("gone-model"), std::string::npos);
    EXPECT_NE(load.warnings[1].find("missing.png"), std::string::npos);
    ASSERT_EQ(load.state.inputs.size(), 2u);
    EXPECT_EQ(load.state.currentInput, 1);  // still b.png
    EXPECT_EQ(load.state.view.figure.colormap, "magma");
}

TEST_F(Session, BadFilesAreOneLineErrorsNamingTheFile) {
    const std::string path = (m_dir / "bad.fovea").string();
    const auto expectError = [&](const std::string& content, const std::string& problem) {
        std::ofstream(path, std::ios::trunc) << content;
        try {
            loadSession(path);
            ADD_FAILURE() << "no error for " << content;
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find(path), std::string::npos) << message;
            EXPECT_NE(message.find(problem), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        }
    };
    expectError("{\"fovea_session\": 1, \"inputs\": [", "");
    expectError("{\"something\": 1}", "not a Fovea session");
    expectError("{\"fovea_session\": 99}", "newer");
    expectError("{\"fovea_session\": 1, \"inputs\": 5}", "inputs");
    expectError("{\"fovea_session\": 1, \"view\": {\"colormap\": \"rainbow\"}}", "rainbow");
    expectError("{\"fovea_session\": 1, \"view\": {\"range\": \"log\"}}", "range");
    expectError("{\"fovea_session\": 1, \"view\": {\"opacity\": 3}}", "opacity");
    expectError("{\"fovea_session\": 1, \"comparison\": [{}, {}, {}, {}, {}]}", "comparison");
    EXPECT_THROW(loadSession((m_dir / "absent.fovea").string()), Error);
}

// The head intervention and the head views' settings survive a save and an open, value for
// value; what is read back is the file's content, not the object that was saved.
TEST_F(Session, HeadMaskAndHeadViewsRoundTrip) {
    SessionState state;
    state.heads.setScale(3, 1, 0.0f);
    state.heads.setScale(0, 2, 1.75f);
    state.heads.setScale(2, 0, 0.25f);
    state.heads.setScale(2, 0, 1.0f);  // restored: no entry left
    state.heads.atlasColouring = "importance";
    state.heads.embedding = "tsne";
    state.heads.scatterColouring = "label";
    state.heads.clusters = 4;
    state.heads.selection = {{1, 2}, {3, 0}};
    state.view.excludeSinks = true;
    const std::string path = (m_dir / "heads.fovea").string();
    saveSession(path, state);
    const nlohmann::json raw = readJsonFile(path);
    ASSERT_EQ(raw["heads"]["scales"].size(), 2u);
    EXPECT_EQ(raw["heads"]["scales"][0]["layer"], 0);  // sorted by layer, head
    EXPECT_EQ(raw["heads"]["scales"][0]["head"], 2);
    EXPECT_FLOAT_EQ(raw["heads"]["scales"][0]["scale"].get<float>(), 1.75f);
    EXPECT_EQ(raw["heads"]["scales"][1]["layer"], 3);
    EXPECT_FLOAT_EQ(raw["heads"]["scales"][1]["scale"].get<float>(), 0.0f);
    const SessionLoad load = loadSession(path);
    EXPECT_TRUE(load.warnings.empty());
    const HeadSettings& heads = load.state.heads;
    ASSERT_EQ(heads.scales.size(), 2u);
    EXPECT_EQ(heads.scaleOf(3, 1), 0.0f);
    EXPECT_EQ(heads.scaleOf(0, 2), 1.75f);
    EXPECT_EQ(heads.scaleOf(2, 0), 1.0f);
    EXPECT_EQ(heads.scaleOf(3, 2), 1.0f);
    EXPECT_EQ(heads.atlasColouring, "importance");
    EXPECT_EQ(heads.embedding, "tsne");
    EXPECT_EQ(heads.scatterColouring, "label");
    EXPECT_EQ(heads.clusters, 4);
    EXPECT_EQ(heads.selection, (std::vector<std::pair<int, int>>{{1, 2}, {3, 0}}));
    EXPECT_TRUE(load.state.view.excludeSinks);
    EXPECT_EQ(load.state.toJson(), state.toJson());
    // An older session without the field opens with no intervention.
    std::ofstream(path, std::ios::trunc) << "{\"fovea_session\": 1}";
    EXPECT_FALSE(loadSession(path).state.heads.intervened());
}

TEST_F(Session, BadHeadSettingsAreOneLineErrors) {
    const std::string path = (m_dir / "bad_heads.fovea").string();
    const auto expectError = [&](const std::string& heads, const std::string& problem) {
        std::ofstream(path, std::ios::trunc) << "{\"fovea_session\": 1, \"heads\": " << heads << "}";
        try {
            loadSession(path);
            ADD_FAILURE() << "no error for " << heads;
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find(path), std::string::npos) << message;
            EXPECT_NE(message.find(problem), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        }
    };
    expectError("{\"scales\": [{\"layer\": 0, \"head\": 1, \"scale\": 2.5}]}", "outside 0..2");
    expectError("{\"scales\": [{\"layer\": 0, \"head\": 1, \"scale\": -1}]}", "outside 0..2");
    expectError("{\"scales\": [{\"layer\": 0, \"scale\": 0}]}", "integer layer and head");
    expectError("{\"scales\": [{\"layer\": -1, \"head\": 0, \"scale\": 0}]}", "does not exist");
    expectError("{\"scales\": 3}", "'scales'");
    expectError("{\"embedding\": \"umap\"}", "umap");
    expectError("{\"atlas_colouring\": \"rainbow\"}", "rainbow");
    expectError("{\"clusters\": 99}", "clusters");
    expectError("{\"selection\": [[1]]}", "selection");
    HeadSettings heads;
    EXPECT_THROW(heads.setScale(0, 0, std::nanf("")), Error);
}

TEST_F(Session, SaveIsAtomic) {
    // A save into a folder that cannot take the file fails cleanly and leaves the old file.
    const std::string path = (m_dir / "s.fovea").string();
    SessionState state;
    state.view.figure.colormap = "gray";
    saveSession(path, state);
    const std::string before = readFileContents(path);
    fs::permissions(m_dir, fs::perms::owner_read | fs::perms::owner_exec);
    state.view.figure.colormap = "turbo";
    bool threw = false;
    try {
        saveSession(path, state);
    } catch (const Error&) {
        threw = true;
    }
    fs::permissions(m_dir, fs::perms::owner_all);
    if (threw) {
        EXPECT_EQ(readFileContents(path), before);  // root may write anyway
    }
    // No temporary files are left behind either way.
    int files = 0;
    for (const auto& entry : fs::directory_iterator(m_dir)) files += entry.is_regular_file() ? 1 : 0;
    EXPECT_EQ(files, 1);
}

TEST(ViewMap, PercentileIsTheNearestRank) {
    std::mt19937 generator(3);
    std::uniform_real_distribution<float> uniform(-2.0f, 5.0f);
    cv::Mat1f values(7, 9);
    for (float& v : values) v = uniform(generator);
    values(2, 3) = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> sorted;
    for (const float v : values) if (std::isfinite(v)) sorted.push_back(v);
    std::sort(sorted.begin(), sorted.end());
    for (const float p : {1.0f, 10.0f, 50.0f, 99.0f, 100.0f}) {
        const std::size_t rank = std::size_t(std::ceil(p / 100.0 * double(sorted.size())));
        EXPECT_EQ(percentileOf(values, p), sorted[std::max<std::size_t>(rank, 1) - 1]) << p;
    }
    EXPECT_TRUE(std::isnan(percentileOf(cv::Mat1f(2, 2, std::numeric_limits<float>::quiet_NaN()), 50.0f)));
}

TEST(ViewMap, RangeModesAndThreshold) {
    cv::Mat1f map(1, 5);
    map << 0.0f, 1.0f, 2.0f, 3.0f, 10.0f;
    ViewSettings view;
    FigureOptions figure = resolvedFigure(map, view);
    EXPECT_TRUE(figure.autoRange);
    view.rangeMode = "percentile";
    view.percentile = 80.0f;
    figure = resolvedFigure(map, view);
    EXPECT_FALSE(figure.autoRange);
    EXPECT_EQ(figure.low, 0.0f);
    EXPECT_EQ(figure.high, 3.0f);
    view.rangeMode = "fixed";
    view.figure.low = 1.0f;
    view.figure.high = 1.0f;
    EXPECT_THROW(resolvedFigure(map, view), Error);
    view.figure.high = 5.0f;
    view.threshold = 0.5f;  // cut at 1 + 0.5 * 4 = 3
    const cv::Mat cut = thresholdedMap(map, view, resolvedFigure(map, view));
    EXPECT_TRUE(std::isnan(cut.at<float>(0, 2)));
    EXPECT_EQ(cut.at<float>(0, 3), 3.0f);
    EXPECT_EQ(cut.at<float>(0, 4), 10.0f);
}

}  // namespace
