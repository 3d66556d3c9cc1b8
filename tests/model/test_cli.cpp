// The fovea executable end to end: outputs that other tools read, and every documented bad
// input giving one line that names the file and the problem, with a non-zero exit code.
#include "core/io/json_file.h"
#include "core/io/npy.h"
#include "core/io/image_io.h"
#include "core/io/safetensors.h"
#include "core/model/random_model.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

const std::string kData = FOVEA_TEST_DATA_DIR;
const std::string kTimm = kData + "/models/timm-vit-tiny";

struct Result {
    int exitCode = -1;
    std::string out;
    std::string err;
};

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = fs::temp_directory_path() / (std::string("fovea_cli_") + info->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    std::string path(const std::string& name) const { return (m_dir / name).string(); }

    Result run(const std::string& arguments) const {
        const std::string out = path("stdout.txt"), err = path("stderr.txt");
        const std::string command = quote(FOVEA_CLI_PATH) + " " + arguments + " --threads 1 >" + quote(out) +
                                    " 2>" + quote(err);
        const int status = std::system(command.c_str());
        Result result;
        result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        result.out = readFileContents(out);
        result.err = readFileContents(err);
        return result;
    }

    // Asserts a clean failure: exit code 1, exactly one line, naming `subject` and containing `problem`.
    void expectOneLineError(const Result& result, const std::string& subject, const std::string& problem) const {
        EXPECT_EQ(result.exitCode, 1) << result.err;
        ASSERT_FALSE(result.err.empty());
        EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << "more than one line:\n" << result.err;
        EXPECT_NE(result.err.find(subject), std::string::npos) << result.err;
        EXPECT_NE(result.err.find(problem), std::string::npos) << result.err;
    }

    fs::path copyModel() const {
        const fs::path copy = m_dir / "model";
        fs::copy(kTimm, copy, fs::copy_options::recursive);
        return copy;
    }

    fs::path m_dir;
};

std::string arg(const fs::path& p) { return quote(p.string()); }

TEST_F(Cli, InfoJsonDescribesTheModel) {
    const Result result = run("info " + quote(kTimm) + " --json");
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json info = nlohmann::json::parse(result.out);
    EXPECT_EQ(info["family"], "vit");
    EXPECT_EQ(info["layers"], 3);
    EXPECT_EQ(info["heads"], 3);
    EXPECT_EQ(info["num_classes"], 5);
    EXPECT_EQ(info["grid"], nlohmann::json({4, 4}));
    EXPECT_EQ(info["preprocessing"]["height"], 32);
    const Result text = run("info " + quote(kTimm));
    ASSERT_EQ(text.exitCode, 0);
    EXPECT_NE(text.out.find("heads"), std::string::npos);
}

TEST_F(Cli, RunWritesNpyAtPatchResolutionAndAPngFigure) {
    const std::string npy = path("map.npy"), png = path("map.png");
    Result result = run("run " + quote(kTimm) + " " + quote(kTimm + "/input.png") + " --method rollout --out " + quote(npy));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const NpyArray map = readNpy(npy);
    EXPECT_EQ(map.shape, (std::vector<std::int64_t>{4, 4}));
    // The rollout map is the CLS row of the fixture's reference rollout.
    const std::vector<float> reference = readNpy(kTimm + "/expected_rollout.npy").toFloats();
    const std::vector<float> values = map.toFloats();
    for (int p = 0; p < 16; ++p) EXPECT_NEAR(values[std::size_t(p)], reference[std::size_t(1 + p)], 1e-3);

    result = run("run " + quote(kTimm) + " " + quote(kTimm + "/input.png") + " --layer 1 --head 2 --out " + quote(png));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const cv::Mat figure = readImage(png);
    EXPECT_GT(figure.cols, 32);  // upscaled with a colorbar
}

TEST_F(Cli, DumpWritesLogitsAttentionAndTokens) {
    const std::string npz = path("dump.npz");
    const Result result = run("dump " + quote(kTimm) + " " + quote(kTimm + "/input_tensor.npy") + " --out " + quote(npz));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(npz)) arrays.emplace(name, array);
    ASSERT_TRUE(arrays.count("logits"));
    EXPECT_EQ(arrays.at("logits").shape, (std::vector<std::int64_t>{1, 5}));
    for (int l = 0; l < 3; ++l) {
        const std::string key = "attention_" + std::to_string(l);
        ASSERT_TRUE(arrays.count(key)) << key;
        EXPECT_EQ(arrays.at(key).shape, (std::vector<std::int64_t>{3, 17, 17}));
    }
    const nlohmann::json tokens = nlohmann::json::parse(arrays.at("tokens").toString());
    ASSERT_TRUE(tokens.is_array() || tokens.contains("tokens"));
    const std::vector<float> logits = arrays.at("logits").toFloats();
    const std::vector<float> expected = readNpy(kTimm + "/expected_logits.npy").toFloats();
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(logits[i], expected[i], 1e-4);
}

TEST_F(Cli, InfoDescribesAResnet) {
    ModelSpec spec;
    spec.blockType = "bottleneck";
    spec.stageBlocks = {1, 2, 1, 1};
    spec.stageWidths = {8, 16, 16, 16};
    spec.stemWidth = 4;
    spec.numClasses = 3;
    const std::string model = path("resnet");
    writeRandomResnetCheckpoint(model, spec, 1, "huggingface");
    const Result result = run("info " + quote(model) + " --json");
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json info = nlohmann::json::parse(result.out);
    EXPECT_EQ(info["family"], "resnet");
    EXPECT_EQ(info["layout"], "huggingface");
    EXPECT_EQ(info["block_type"], "bottleneck");
    EXPECT_EQ(info["stage_blocks"], nlohmann::json({1, 2, 1, 1}));
    EXPECT_EQ(info["stage_widths"], nlohmann::json({8, 16, 16, 16}));
    EXPECT_EQ(info["heads"], 0);
    EXPECT_EQ(info["grid"], nlohmann::json({7, 7}));
    EXPECT_EQ(info["num_classes"], 3);
    const Result text = run("info " + quote(model));
    ASSERT_EQ(text.exitCode, 0) << text.err;
    EXPECT_NE(text.out.find("bottleneck blocks [1, 2, 1, 1]"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("no attention"), std::string::npos) << text.out;

    // Logits come out of dump; attention maps are refused in one line.
    const std::string input = path("input.npy");
    writeNpy(input, NpyArray::fromFloats({1, 3, 40, 50}, std::vector<float>(3 * 40 * 50, 0.5f)));
    const Result dump = run("dump " + quote(model) + " " + quote(input) + " --out " + quote(path("dump.npz")));
    ASSERT_EQ(dump.exitCode, 0) << dump.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(path("dump.npz"))) arrays.emplace(name, array);
    ASSERT_TRUE(arrays.count("logits"));
    EXPECT_EQ(arrays.at("logits").shape, (std::vector<std::int64_t>{1, 3}));
    expectOneLineError(run("run " + quote(model) + " " + quote(input) + " --method rollout --out " + quote(path("map.npy"))), model,
                       "no attention");
    // The CAM family works on it (Grad-CAM by default, on layer4: a 2 x 2 grid for 40 x 50 pixels).
    const Result cam = run("run " + quote(model) + " " + quote(input) + " --out " + quote(path("cam.npy")));
    ASSERT_EQ(cam.exitCode, 0) << cam.err;
    EXPECT_EQ(readNpy(path("cam.npy")).shape, (std::vector<std::int64_t>{2, 2}));
    const Result occlusion = run("run " + quote(model) + " " + quote(input) + " --method occlusion --param window=16 --out " +
                                 quote(path("occlusion.npy")));
    ASSERT_EQ(occlusion.exitCode, 0) << occlusion.err;
    EXPECT_EQ(readNpy(path("occlusion.npy")).shape, (std::vector<std::int64_t>{40, 50}));
}

TEST_F(Cli, MethodsListsEveryRegisteredMethodWithItsParameters) {
    const Result methods = run("methods");
    ASSERT_EQ(methods.exitCode, 0) << methods.err;
    for (const char* name : {"rollout", "flow", "chefer", "gradcam", "scorecam", "integrated-gradients", "rise"}) {
        EXPECT_NE(methods.out.find(std::string("  ") + name + ": "), std::string::npos) << name;
    }
    EXPECT_NE(methods.out.find("--param steps=64"), std::string::npos);
}

TEST_F(Cli, MissingFiles) {
    expectOneLineError(run("info " + quote(path("nowhere"))), path("nowhere"), "no such file");
    expectOneLineError(run("run " + quote(kTimm) + " " + quote(path("missing.png")) + " --out " + quote(path("o.png"))),
                       path("missing.png"), "");
}

TEST_F(Cli, CorruptImage) {
    const std::string bad = path("corrupt.png");
    std::ofstream(bad, std::ios::binary) << "\x89PNG\r\n\x1a\nthis is not really a png";
    expectOneLineError(run("run " + quote(kTimm) + " " + quote(bad) + " --out " + quote(path("o.png"))), bad, "");
    EXPECT_FALSE(fs::exists(path("o.png")));
}

TEST_F(Cli, CorruptSafetensors) {
    const fs::path model = copyModel();
    const fs::path weights = model / "model.safetensors";
    fs::resize_file(weights, fs::file_size(weights) / 2);
    expectOneLineError(run("info " + arg(model)), weights.string(), "");
    // A header length beyond the file.
    {
        std::ofstream file(weights, std::ios::binary | std::ios::trunc);
        const unsigned char length[8] = {0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0};
        file.write(reinterpret_cast<const char*>(length), 8);
        file << "{}";
    }
    expectOneLineError(run("run " + arg(model) + " " + quote(kTimm + "/input.png") + " --out " + quote(path("o.npy"))),
                       weights.string(), "header");
}

TEST_F(Cli, UnknownArchitecture) {
    const fs::path model = copyModel();
    writeJsonFile((model / "config.json").string(), {{"architecture", "resnet50"}});
    const Result result = run("info " + arg(model));
    EXPECT_EQ(result.exitCode, 1);
    EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;
    EXPECT_NE(result.err.find("resnet50"), std::string::npos) << result.err;
}

TEST_F(Cli, WrongTensorShapes) {
    // An input tensor with the wrong channel count.
    const std::string input = path("input.npy");
    writeNpy(input, NpyArray::fromFloats({1, 1, 32, 32}, std::vector<float>(32 * 32, 0.0f)));
    expectOneLineError(run("run " + quote(kTimm) + " " + quote(input) + " --out " + quote(path("o.npy"))), input, "3");
    // A weight with the wrong shape: blocks.1.attn.qkv.weight cut from [144, 48] to [96, 48].
    const fs::path model = copyModel();
    const fs::path weights = model / "model.safetensors";
    std::vector<TensorData> tensors;
    {
        const SafetensorsFile file = SafetensorsFile::open(weights.string());
        for (const TensorView& view : file.tensors()) {
            TensorData data{view.name, view.dtype, view.shape, {view.data, view.data + view.byteSize}};
            if (view.name == "blocks.1.attn.qkv.weight") {
                data.shape[0] = 96;
                data.bytes.resize(std::size_t(96 * 48 * 4));
            }
            tensors.push_back(std::move(data));
        }
    }
    writeSafetensors(weights.string(), tensors);
    expectOneLineError(run("info " + arg(model)), "blocks.1.attn.qkv.weight", "shape");
}

TEST_F(Cli, EvalOnAFolderWithMasks) {
    const fs::path folder = m_dir / "images";
    fs::create_directories(folder / "masks");
    cv::Mat image(40, 40, CV_8UC3, cv::Scalar(40, 90, 160));
    cv::circle(image, {25, 15}, 8, cv::Scalar(250, 250, 250), cv::FILLED);
    cv::Mat mask = cv::Mat::zeros(40, 40, CV_8U);
    cv::circle(mask, {25, 15}, 8, cv::Scalar(255), cv::FILLED);
    writeImage((folder / "a.png").string(), image);
    writeImage((folder / "masks" / "a.png").string(), mask);
    const Result ok = run("eval " + quote(kTimm) + " --data " + quote(folder.string()) +
                          " --methods raw --road --road-percentages 50 --step 512 --out " + quote(path("out")));
    ASSERT_EQ(ok.exitCode, 0) << ok.err;
    const std::string csv = readFileContents(path("out/leaderboard.csv"));
    EXPECT_NE(csv.find("road_morf"), std::string::npos);
    EXPECT_NE(csv.find("\nraw,1,"), std::string::npos) << csv;
    EXPECT_EQ(csv.find(",,"), std::string::npos) << csv;  // ROAD measured
    EXPECT_NE(ok.out.find("1 image in"), std::string::npos);

    writeImage((folder / "masks" / "a.png").string(), cv::Mat::zeros(20, 40, CV_8U));
    expectOneLineError(
        run("eval " + quote(kTimm) + " --data " + quote(folder.string()) + " --out " + quote(path("out2"))),
        (folder / "masks" / "a.png").string(), "the mask is 40x20 but a.png is 40x40");
    EXPECT_FALSE(fs::exists(path("out2")));  // nothing written before the data is known good
    EXPECT_EQ(run("eval " + quote(kTimm) + " --boxes b.csv").exitCode, 2);
    EXPECT_EQ(run("eval " + quote(kTimm) + " --data " + quote(folder.string()) + " --road-percentages 100").exitCode,
              2);
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
    EXPECT_EQ(run("frobnicate").exitCode, 2);
    EXPECT_EQ(run("run " + quote(kTimm) + " " + quote(kTimm + "/input.png")).exitCode, 2);  // no --out
    const Result head = run("run " + quote(kTimm) + " " + quote(kTimm + "/input.png") + " --out x.png --head many");
    EXPECT_NE(head.exitCode, 0);
    EXPECT_NE(head.err.find("many"), std::string::npos) << head.err;
    const Result layer = run("run " + quote(kTimm) + " " + quote(kTimm + "/input.png") + " --layer 9 --out " + quote(path("o.npy")));
    EXPECT_NE(layer.exitCode, 0);
    EXPECT_NE(layer.err.find("layer"), std::string::npos) << layer.err;
}

}  // namespace
