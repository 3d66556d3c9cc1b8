// fovea heads-importance end to end: the CSV table, the summary with the masking comparison,
// images with a labels file, and clear errors for bad arguments.
#include "core/data/shapes_scene.h"
#include "core/io/image_io.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string kShapesVit = FOVEA_SOURCE_DIR "/resources/models/shapes-vit";

struct Result {
    int exitCode = -1;
    std::string out, err;
};

std::string readAll(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

fs::path workDir() {
    const fs::path dir =
        fs::temp_directory_path() / ("fovea_heads_importance_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

Result runFovea(const std::string& arguments) {
    const fs::path dir = workDir();
    const std::string command = std::string("'") + FOVEA_CLI_PATH + "' " + arguments + " >'" +
                                (dir / "out").string() + "' 2>'" + (dir / "err").string() + "'";
    const int status = std::system(command.c_str());
    Result result;
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = readAll(dir / "out");
    result.err = readAll(dir / "err");
    return result;
}

int lineCount(const std::string& text) {
    int lines = 0;
    for (const char c : text) lines += c == '\n';
    return lines;
}

TEST(HeadsImportanceCli, ScenesGiveATableAndTheMaskingComparison) {
    const fs::path csv = workDir() / "importance.csv";
    const Result r = runFovea("heads-importance '" + kShapesVit + "' --scenes 12 --out '" +
                              csv.string() + "' --mask-compare 1,2 --draws 3 --top 5 --held-out");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string table = readAll(csv);
    EXPECT_EQ(
        table.rfind(
            "layer,head,rank,masked_accuracy,delta_accuracy,delta_confidence,kl,gradient_proxy\n",
            0),
        0u);
    EXPECT_EQ(lineCount(table), 1 + 16);  // 4 layers x 4 heads
    EXPECT_NE(r.out.find("12 shapes-in-clutter scenes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| rank | layer | head |"), std::string::npos);
    EXPECT_NE(r.out.find("Masking the top-K heads together vs K random heads"), std::string::npos);
    EXPECT_NE(r.out.find("on 12 held-out scenes (seeds 1000500012 on)"), std::string::npos)
        << r.out;
    EXPECT_EQ(lineCount(r.out.substr(r.out.find("| K |"))), 2 + 2);
}

// A language model: the repeated-sequence probes, scored on the second copy. The shipped
// induction-gpt's previous-token head (L0H3) ranks first.
TEST(HeadsImportanceCli, TextModelOnRepeatedProbes) {
    const fs::path csv = workDir() / "text_importance.csv";
    const Result r = runFovea("heads-importance '" FOVEA_SOURCE_DIR "/resources/models/induction-gpt' --probe-repeat 12 --probes 4 --out '" +
                              csv.string() + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string table = readAll(csv);
    EXPECT_EQ(lineCount(table), 1 + 8);
    EXPECT_NE(table.find("\n0,3,1,"), std::string::npos) << table;
    EXPECT_NE(r.out.find("4 probes of 12 random tokens repeated"), std::string::npos) << r.out;
    const Result bad = runFovea("heads-importance '" FOVEA_SOURCE_DIR "/resources/models/induction-gpt' --probe-repeat 12 --mask-compare 2 --out '" +
                                csv.string() + "'");
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("--mask-compare is for image classifiers"), std::string::npos) << bad.err;
}

TEST(HeadsImportanceCli, ImagesWithALabelsFile) {
    const fs::path dir = workDir();
    std::ofstream labels(dir / "labels.csv");
    labels << "file,label\n";
    std::string inputs;
    for (int i = 0; i < 3; ++i) {
        const fovea::Scene scene = fovea::generateScene(77 + std::uint64_t(i));
        const fs::path image = dir / ("scene" + std::to_string(i) + ".png");
        fovea::writeImage(image.string(), scene.image);
        inputs += " '" + image.string() + "'";
        if (i < 2)
            labels << image.filename().string() << ","
                   << fovea::shapeClassNames()[std::size_t(scene.label)] << "\n";
    }
    labels.close();
    const fs::path csv = dir / "images.csv";
    const Result r = runFovea("heads-importance '" + kShapesVit + "'" + inputs + " --labels '" +
                              (dir / "labels.csv").string() + "' --out '" + csv.string() +
                              "' --no-gradient --order kl");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("3 input(s), 2 with a label"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ranked by kl"), std::string::npos);
    EXPECT_EQ(lineCount(readAll(csv)), 17);

    std::ofstream bad(dir / "bad.csv");
    bad << "scene0.png,hexagon\n";
    bad.close();
    const Result e = runFovea("heads-importance '" + kShapesVit + "'" + inputs + " --labels '" +
                              (dir / "bad.csv").string() + "' --out '" + csv.string() + "'");
    EXPECT_EQ(e.exitCode, 1);
    EXPECT_NE(e.err.find("bad.csv: line 1: label 'hexagon' is neither a class name"),
              std::string::npos)
        << e.err;
}

TEST(HeadsImportanceCli, BadArgumentsAreUsageErrors) {
    const fs::path csv = workDir() / "x.csv";
    for (const std::string& args :
         {std::string("--scenes 4"), std::string("--scenes 0 --out x.csv"),
          "--scenes 4 --out '" + csv.string() + "' --mask-compare 0",
          "--scenes 4 --out '" + csv.string() + "' --mask-compare 17",
          "--scenes 4 --out '" + csv.string() + "' --order loss"}) {
        const Result r = runFovea("heads-importance '" + kShapesVit + "' " + args);
        EXPECT_EQ(r.exitCode, 2) << args << ": " << r.err;
        EXPECT_EQ(r.err.rfind("fovea heads-importance: ", 0), 0u) << r.err;
    }
}

}  // namespace
