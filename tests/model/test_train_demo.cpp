// The demo model's training (a few steps of a tiny configuration) and the shipped model itself.
#include "core/io/json_file.h"
#include "core/model/registry.h"
#include "core/train/train_demo.h"
#include "core/util/progress.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

DemoTrainingOptions tinyOptions(const std::string& dir) {
    DemoTrainingOptions options;
    options.outputDir = dir;
    options.steps = 30;
    options.batchSize = 16;
    options.warmupSteps = 5;
    options.embedDim = 32;
    options.depth = 2;
    options.numHeads = 2;
    options.threads = 1;
    options.heldOutScenes = 40;
    options.pointingScenes = 20;
    return options;
}

TEST(TrainDemo, WritesALoadableDeterministicCheckpointAndAReport) {
    const fs::path root = fs::temp_directory_path() / "fovea_train_demo_test";
    fs::remove_all(root);
    NullProgress progress;
    std::ostringstream log;
    const DemoTrainingReport first = trainShapesVit(tinyOptions((root / "a").string()), progress, log);
    const DemoTrainingReport second = trainShapesVit(tinyOptions((root / "b").string()), progress, log);
    for (const char* file : {"model.safetensors", "config.json", "training_report.json", "REPORT.md"}) {
        EXPECT_TRUE(fs::exists(root / "a" / file)) << file;
    }
    // Same seed, same bytes.
    EXPECT_EQ(readFileContents((root / "a/model.safetensors").string()),
              readFileContents((root / "b/model.safetensors").string()));
    EXPECT_DOUBLE_EQ(first.heldOutAccuracy, second.heldOutAccuracy);

    const nlohmann::json report = readJsonFile((root / "a/training_report.json").string());
    EXPECT_EQ(report["options"]["steps"], 30);
    EXPECT_EQ(report["evaluation"]["accuracy_scenes"], 40);
    EXPECT_TRUE(report["evaluation"]["pointing_game"].contains("0px"));
    EXPECT_TRUE(report["evaluation"]["pointing_game"].contains("15px"));

    // The checkpoint opens through the ordinary registry as a timm ViT with named labels.
    const auto model = openModel((root / "a").string());
    EXPECT_EQ(model->spec().depth, 2);
    EXPECT_EQ(model->spec().numHeads, 2);
    EXPECT_EQ(model->spec().labelOf(4), "star");

    // A different seed gives different weights.
    DemoTrainingOptions other = tinyOptions((root / "c").string());
    other.seed += 1;
    trainShapesVit(other, progress, log);
    EXPECT_NE(readFileContents((root / "a/model.safetensors").string()),
              readFileContents((root / "c/model.safetensors").string()));
    fs::remove_all(root);
}

TEST(TrainDemo, CancelStopsTraining) {
    struct CancelAfter : Progress {
        int calls = 0;
        bool update(double, std::string_view) override { return ++calls < 3; }
    } cancel;
    std::ostringstream log;
    const fs::path dir = fs::temp_directory_path() / "fovea_train_demo_cancel";
    fs::remove_all(dir);
    EXPECT_THROW(trainShapesVit(tinyOptions(dir.string()), cancel, log), Cancelled);
    EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
}

// The committed demo model, re-evaluated here on held-out scenes it never saw in training.
TEST(ShippedDemoModel, NamesTheTargetAndItsAttentionPointsAtIt) {
    const std::string path = std::string(FOVEA_SOURCE_DIR) + "/resources/models/shapes-vit";
    ASSERT_TRUE(fs::exists(path + "/model.safetensors")) << "the demo model is missing: " << path;
    NullProgress progress;
    const nlohmann::json result = evaluateShapesModel(path, 300, 150, SceneOptions{}, progress);
    EXPECT_GE(result["accuracy"].get<double>(), 0.93) << result.dump();
    const nlohmann::json& within15 = result["pointing_game"]["15px"];
    // Attention must beat pointing at the image centre.
    EXPECT_GT(within15["rollout"].get<double>(), within15["centre_baseline"].get<double>()) << result.dump();
}

}  // namespace
