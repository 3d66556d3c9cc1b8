// The gaze commands end to end: `fovea scanpath compare` (its JSON against core, and the
// MultiMatch reference values through the command line when ../shared has the files), `fovea
// scanpath` (CSV, SVG, PNG, segments), `fovea gaze eval` (the table against core on the same
// model, map and fixations), `fovea gaze visual-search` and `fovea bench gaze`, and their
// one-line errors and usage exits.
#include "core/gaze/gaze_io.h"
#include "core/gaze/gaze_model.h"
#include "core/gaze/multimatch.h"
#include "core/gaze/scanpath_metrics.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

const std::string kTimm = std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny";
const std::string kMultiMatch = std::string(FOVEA_SHARED_DIR) + "/fixtures/multimatch/";

struct Result {
    int exitCode = -1;
    std::string out, err;
};

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

class GazeCli : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() / (std::string("fovea_gaze_cli_") + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path(name)) << text;
        return path(name);
    }

    Result run(const std::string& arguments) const {
        const std::string out = path("stdout.txt"), err = path("stderr.txt");
        const std::string command = quote(FOVEA_CLI_PATH) + " " + arguments + " >" + quote(out) + " 2>" + quote(err);
        const int status = std::system(command.c_str());
        Result result;
        result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        result.out = readFileContents(out);
        result.err = readFileContents(err);
        return result;
    }

    void expectOneLineError(const Result& result, const std::string& problem) const {
        EXPECT_EQ(result.exitCode, 1) << result.err;
        ASSERT_FALSE(result.err.empty());
        EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << "more than one line:\n" << result.err;
        EXPECT_NE(result.err.find(problem), std::string::npos) << result.err;
    }

    fs::path m_dir;
};

const char* kPathA = "x,y,duration\n100,100,0.2\n400,120,0.3\n420,500,0.25\n90,480,0.4\n600,300,0.2\n";
const char* kPathB = "x,y,duration,subject\n120,90,0.25,b\n380,140,0.2,b\n450,520,0.3,b\n100,450,0.35,b\n";

}  // namespace

TEST_F(GazeCli, CompareJsonMatchesCore) {
    const std::string a = write("a.csv", kPathA), b = write("b.csv", kPathB);
    const Result result = run("scanpath compare " + quote(a) + " " + quote(b) + " --screen 1280x720 --json");
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json out = nlohmann::json::parse(result.out);
    const Scanpath pa = readScanpath(a), pb = readScanpath(b);
    MultiMatchOptions options;
    options.screen = {1280, 720};
    const MultiMatchResult mm = multiMatch(pa, pb, options);
    EXPECT_NEAR(out["multimatch"]["vector"].get<double>(), mm.vector, 1e-12);
    EXPECT_NEAR(out["multimatch"]["direction"].get<double>(), mm.direction, 1e-12);
    EXPECT_NEAR(out["multimatch"]["length"].get<double>(), mm.length, 1e-12);
    EXPECT_NEAR(out["multimatch"]["position"].get<double>(), mm.position, 1e-12);
    EXPECT_NEAR(out["multimatch"]["duration"].get<double>(), mm.duration, 1e-12);
    EXPECT_NEAR(out["dtw"].get<double>(), dynamicTimeWarping(pa.points(), pb.points()), 1e-9);
    EXPECT_NEAR(out["frechet"].get<double>(), discreteFrechetDistance(pa.points(), pb.points()), 1e-9);
    EXPECT_EQ(out["string_edit_distance"].get<int>(), stringEditDistance(pa, pb, {1280, 720}));
    ScanMatchOptions grid;
    grid.screen = {1280, 720};
    EXPECT_NEAR(out["scanmatch"].get<double>(), scanMatch(pa, pb, grid), 1e-12);
    EXPECT_TRUE(out.contains("sequence_score"));
    // The text form names the five dimensions.
    const Result text = run("scanpath compare " + quote(a) + " " + quote(b) + " --screen 1280x720");
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_NE(text.out.find("direction"), std::string::npos);
}

TEST_F(GazeCli, CompareReproducesTheMultiMatchReference) {
    const std::string first = kMultiMatch + "segment_10_sub-19.tsv", second = kMultiMatch + "segment_10_sub-01.tsv";
    if (!fs::exists(first) || !fs::exists(second))
        GTEST_SKIP() << "MultiMatch reference files not found in " << kMultiMatch;
    const Result result = run("scanpath compare " + quote(first) + " " + quote(second) +
                              " --screen 1280x720 --grouping --tdir 45 --tdur 0.3 --tamp 146.8 --json");
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json mm = nlohmann::json::parse(result.out)["multimatch"];
    EXPECT_NEAR(mm["vector"].get<double>(), 0.95076, 1e-4);
    EXPECT_NEAR(mm["direction"].get<double>(), 0.95638, 1e-4);
    EXPECT_NEAR(mm["length"].get<double>(), 0.94082, 1e-4);
    EXPECT_NEAR(mm["position"].get<double>(), 0.94491, 1e-4);
    EXPECT_NEAR(mm["duration"].get<double>(), 0.78261, 1e-4);
}

TEST_F(GazeCli, CompareUsageAndInputErrors) {
    const std::string a = write("a.csv", kPathA), b = write("b.csv", kPathB);
    EXPECT_EQ(run("scanpath compare " + quote(a) + " " + quote(b)).exitCode, 2);                     // no --screen
    EXPECT_EQ(run("scanpath compare " + quote(a) + " " + quote(b) + " --screen 1280").exitCode, 2);  // not WxH
    EXPECT_EQ(run("scanpath compare " + quote(a) + " " + quote(b) + " --screen 1280x720 --tdir 45").exitCode, 2);
    EXPECT_EQ(run("scanpath compare " + quote(a) + " --screen 1280x720").exitCode, 2);
    const std::string bad = write("bad.csv", "x,y,duration\n1,2,0.1\n3,four,0.2\n");
    expectOneLineError(run("scanpath compare " + quote(a) + " " + quote(bad) + " --screen 1280x720"),
                       bad + ": line 3: y is not a number");
    expectOneLineError(run("scanpath compare " + quote(a) + " " + quote(path("missing.csv")) + " --screen 1280x720"),
                       "missing.csv");
}

TEST_F(GazeCli, ScanpathFromAModelAsCsvSvgAndPng) {
    const std::string image = kTimm + "/input.png";
    const cv::Size size = readImage(image).size();
    Result result = run("scanpath " + quote(kTimm) + " " + quote(image) + " --method rollout --fixations 5 --out " +
                        quote(path("p.csv")));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const Scanpath path = readScanpath(this->path("p.csv"));
    ASSERT_EQ(path.fixations.size(), 5u);
    for (const Fixation& f : path.fixations) {
        EXPECT_TRUE(f.x >= 0 && f.y >= 0 && f.x < size.width && f.y < size.height);
        EXPECT_GT(f.duration, 0.0);
    }
    // The first fixation is the maximum of the model's map over the image.
    std::unique_ptr<Model> model = openModel(kTimm);
    const cv::Mat1f map = modelSaliencyMap(*model, readImage(image), GazeMapOptions{});
    cv::Point top;
    cv::minMaxLoc(map, nullptr, nullptr, nullptr, &top);
    EXPECT_NEAR(map(int(path.fixations[0].y), int(path.fixations[0].x)), map(top), 1e-6);

    result = run("scanpath " + quote(kTimm) + " " + quote(image) + " --inhibition gaussian --decay 0.5 --out " +
                 quote(this->path("p.svg")));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const std::string svg = readFileContents(this->path("p.svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("<circle"), std::string::npos);
    result = run("scanpath " + quote(kTimm) + " " + quote(image) + " --segments kmeans-parts --out " +
                 quote(this->path("p.png")));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_GE(readImage(this->path("p.png")).cols, 480);
    EXPECT_NE(result.out.find("segment"), std::string::npos);

    EXPECT_EQ(run("scanpath " + quote(kTimm) + " " + quote(image) + " --out x.txt").exitCode, 2);
    EXPECT_EQ(
        run("scanpath " + quote(kTimm) + " " + quote(image) + " --inhibition box --out " + quote(this->path("q.csv")))
            .exitCode,
        2);
    expectOneLineError(
        run("scanpath " + quote(kTimm) + " " + quote(image) + " --method nope --out " + quote(this->path("q.csv"))),
        "nope");
}

TEST_F(GazeCli, GazeEvalTableMatchesCore) {
    // Two stimuli: the fixture image under two names, fixations of two subjects on each.
    const fs::path stimuli = m_dir / "stimuli";
    fs::create_directories(stimuli);
    fs::copy_file(kTimm + "/input.png", stimuli / "one.png");
    fs::copy_file(kTimm + "/input.png", stimuli / "two.png");
    const cv::Size size = readImage(kTimm + "/input.png").size();
    std::ostringstream csv;
    csv << "x,y,duration,subject,image\n";
    csv << 0.2 * size.width << ',' << 0.3 * size.height << ",0.2,s1,one.png\n"
        << 0.7 * size.width << ',' << 0.6 * size.height << ",0.3,s1,one.png\n";
    csv << 0.25 * size.width << ',' << 0.35 * size.height << ",0.2,s2,one.png\n"
        << 0.5 * size.width << ',' << 0.5 * size.height << ",0.3,s2,two.png\n";
    csv << 0.9 * size.width << ',' << 0.1 * size.height << ",0.2,s1,two.png\n"
        << 3.0 * size.width << ",1,0.2,s1,two.png\n";  // outside: dropped
    const std::string fixations = write("fixations.csv", csv.str());
    const std::string table = path("out/table.csv");
    const Result result = run("gaze eval " + quote(kTimm) + " --stimuli " + quote(stimuli.string()) + " --fixations " +
                              quote(fixations) + " --method rollout --sigma 3 --out " + quote(table));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("left out"), std::string::npos) << result.out;
    std::istringstream lines(readFileContents(table));
    std::string header, row;
    std::getline(lines, header);
    EXPECT_EQ(header.rfind("image,subjects,fixations,auc_judd,auc_borji,sauc,nss,cc,kld,sim,ig,io_auc_judd", 0), 0u)
        << header;
    std::vector<std::vector<std::string>> rows;
    while (std::getline(lines, row)) {
        std::vector<std::string> fields;
        std::stringstream stream(row);
        std::string field;
        while (std::getline(stream, field, ',')) fields.push_back(field);
        rows.push_back(fields);
    }
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0][0], "one.png");
    EXPECT_EQ(rows[2][0], "mean");
    EXPECT_EQ(rows[0][2], "3");
    // The same score computed here from the same model, map and fixations.
    GazeDataset data = readFixationCsv(fixations);
    data.fitToImage("one.png", size);
    data.fitToImage("two.png", size);
    data.dropOutside();
    std::unique_ptr<Model> model = openModel(kTimm);
    const cv::Mat1f map = modelSaliencyMap(*model, readImage(kTimm + "/input.png"), GazeMapOptions{});
    SaliencyOptions options;
    options.sigma = 3.0;
    const SaliencyScores one =
        scoreSaliency(map, data.fixationsOn("one.png"), options, {}, {}, otherFixationsScaled(data, "one.png", size));
    EXPECT_NEAR(std::stod(rows[0][6]), one.nss, 1e-4);
    EXPECT_NEAR(std::stod(rows[0][3]), one.aucJudd, 1e-4);
    EXPECT_NEAR(std::stod(rows[0][7]), one.cc, 1e-4);

    // A stimulus missing from the folder is an error naming it, unless skipped.
    fs::remove(stimuli / "two.png");
    expectOneLineError(run("gaze eval " + quote(kTimm) + " --stimuli " + quote(stimuli.string()) + " --fixations " +
                           quote(fixations) + " --out " + quote(table)),
                       "has no image 'two.png'");
    EXPECT_EQ(run("gaze eval " + quote(kTimm) + " --stimuli " + quote(stimuli.string()) + " --fixations " +
                  quote(fixations) + " --skip-missing --out " + quote(table))
                  .exitCode,
              0);
    EXPECT_EQ(run("gaze eval " + quote(kTimm) + " --fixations " + quote(fixations)).exitCode, 2);
    EXPECT_EQ(run("gaze eval " + quote(kTimm) + " --stimuli d --fixations f --sigma-deg 1").exitCode, 2);
}

TEST_F(GazeCli, VisualSearchAndBench) {
    const std::string out = path("search");
    const Result result =
        run("gaze visual-search " + quote(std::string(FOVEA_SOURCE_DIR) + "/resources/models/shapes-vit") +
            " --scenes 4 --methods raw --out " + quote(out));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const std::string csv = readFileContents(out + "/visual_search.csv");
    for (const char* row : {"raw,pixels,", "raw,objects-mass,", "raw,objects-mean,", "raw,segments-mean,",
                            "centre,pixels,", "random,pixels,"}) {
        EXPECT_NE(csv.find(row), std::string::npos) << row << "\n" << csv;
    }
    EXPECT_NE(readFileContents(out + "/visual_search.md").find("| raw | pixels |"), std::string::npos);

    const Result bench = run("bench gaze --runs 3");
    ASSERT_EQ(bench.exitCode, 0) << bench.err;
    EXPECT_NE(bench.out.find("AUC-Judd"), std::string::npos);
    EXPECT_NE(bench.out.find("MultiMatch"), std::string::npos);
}
