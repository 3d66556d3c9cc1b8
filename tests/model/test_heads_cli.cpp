// fovea heads end to end: the head atlas of the shipped shapes-vit on generated scenes (JSON and
// CSV), of the GPT-2 and BERT fixtures on text inputs, of the shipped induction-gpt on
// repeated-sequence probes, and clean errors for bad use.
#include "core/io/json_file.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string kShapes = std::string(FOVEA_SOURCE_DIR) + "/resources/models/shapes-vit";
// The model fixtures the project ships (tests/data), so the test runs where ../shared is absent.
const std::string kFixtures = std::string(FOVEA_TEST_DATA_DIR) + "/models";

struct Result {
    int exitCode = -1;
    std::string out, err;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class HeadsCli : public ::testing::Test {
  protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() /
                (std::string("fovea_heads_cli_") +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    Result run(const std::string& arguments) const {
        const std::string command = std::string("'") + FOVEA_CLI_PATH + "' " + arguments +
                                    " --threads 1 >'" + path("out.txt") + "' 2>'" +
                                    path("err.txt") + "'";
        const int status = std::system(command.c_str());
        Result r;
        r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        r.out = slurp(path("out.txt"));
        r.err = slurp(path("err.txt"));
        return r;
    }
    fs::path m_dir;
};

TEST_F(HeadsCli, ShapesVitAtlasAsJsonAndCsv) {
    const Result json =
        run("heads '" + kShapes + "' --scenes 3 --out '" + path("heads.json") + "'");
    ASSERT_EQ(json.exitCode, 0) << json.err;
    const nlohmann::json doc = nlohmann::json::parse(slurp(path("heads.json")));
    EXPECT_EQ(doc["modality"], "image");
    EXPECT_EQ(doc["inputs"], 3);
    EXPECT_EQ(doc["grid"], (nlohmann::json{8, 8}));
    ASSERT_EQ(doc["heads"].size(), 16u);  // 4 layers x 4 heads
    EXPECT_EQ(doc["legend"].size(), 11u);
    const int k = doc["clusters"]["k"];
    EXPECT_GE(k, 2);
    EXPECT_LE(k, 8);
    EXPECT_EQ(doc["clusters"]["names"].size(), std::size_t(k));
    for (const auto& head : doc["heads"]) {
        EXPECT_TRUE(head["labels"].is_array());
        EXPECT_LT(head["cluster"].get<int>(), k);
        EXPECT_EQ(head["offset_pattern"].size(), 49u);
        EXPECT_EQ(head["distance_profile"].size(), 10u);
        const double entropy = head["mean"]["entropy"];
        EXPECT_GT(entropy, 0.0);
        EXPECT_LE(entropy, std::log(65.0) + 1e-4);
        EXPECT_FALSE(
            head["mean"]["attended_norm"].is_null());  // value norms are captured for images
    }
    ASSERT_EQ(doc["sinks"].size(), 3u);
    EXPECT_EQ(doc["sinks"][0]["mass"].size(), 4u);
    EXPECT_EQ(doc["sinks"][0]["mass"][0].size(), 65u);

    const Result csv =
        run("heads '" + kShapes +
            "' --scenes 2 --k 3 --cluster ward --embedding tsne --layer 2,3 --out '" +
            path("heads.csv") + "'");
    ASSERT_EQ(csv.exitCode, 0) << csv.err;
    std::ifstream in(path("heads.csv"));
    std::string header, line;
    std::getline(in, header);
    EXPECT_EQ(header.rfind("layer,head,labels,cluster,cluster_name,x,y,entropy,entropy_std,", 0),
              0u)
        << header;
    int rows = 0;
    std::set<std::string> clusters;
    while (std::getline(in, line)) {
        ++rows;
        std::stringstream cells(line);
        std::string layer, head, labels, cluster;
        std::getline(cells, layer, ',');
        std::getline(cells, head, ',');
        std::getline(cells, labels, ',');
        std::getline(cells, cluster, ',');
        EXPECT_TRUE(layer == "2" || layer == "3") << line;
        clusters.insert(cluster);
    }
    EXPECT_EQ(rows, 8);
    EXPECT_EQ(clusters.size(), 3u);
}

// --importance joins the head-masking importance to each head's row: every head gets a rank, the
// ranks are 1..16 once each, and rank order follows the accuracy change (the default order).
TEST_F(HeadsCli, ImportanceColumnsJoinEachHead) {
    const Result r = run("heads '" + kShapes + "' --scenes 6 --importance --out '" + path("imp.json") + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const nlohmann::json doc = nlohmann::json::parse(slurp(path("imp.json")));
    ASSERT_EQ(doc["heads"].size(), 16u);
    std::vector<double> deltaByRank(17, 0.0);
    std::vector<int> seen(17, 0);
    for (const auto& head : doc["heads"]) {
        const int rank = int(head["importance_rank"].get<double>());
        ASSERT_GE(rank, 1);
        ASSERT_LE(rank, 16);
        ++seen[std::size_t(rank)];
        const double delta = head["importance_accuracy_delta"];
        EXPECT_GE(delta, -1.0);
        EXPECT_LE(delta, 1.0);
        EXPECT_GE(head["importance_kl"].get<double>(), 0.0);
        deltaByRank[std::size_t(rank)] = delta;
    }
    for (int rank = 1; rank <= 16; ++rank) EXPECT_EQ(seen[std::size_t(rank)], 1) << rank;
    for (int rank = 1; rank < 16; ++rank) EXPECT_LE(deltaByRank[std::size_t(rank)], deltaByRank[std::size_t(rank + 1)]) << rank;
    EXPECT_NE(r.out.find("most important: "), std::string::npos);
    const Result bad = run("heads '" + kShapes + "' --scenes 2 --importance --layer 1 --out '" + path("x.json") + "'");
    EXPECT_EQ(bad.exitCode, 2);
}

TEST_F(HeadsCli, TextModelsFromProbesAndIds) {
    const Result gpt2 =
        run("heads '" + kFixtures + "/hf-gpt2-tiny' --probe-repeat 10 --probes 2 --out '" +
            path("gpt2.json") + "'");
    ASSERT_EQ(gpt2.exitCode, 0) << gpt2.err;
    const nlohmann::json doc = nlohmann::json::parse(slurp(path("gpt2.json")));
    EXPECT_EQ(doc["modality"], "text");
    EXPECT_EQ(doc["inputs"], 2);
    EXPECT_TRUE(doc["grid"].is_null());
    for (const auto& head : doc["heads"]) {
        EXPECT_FALSE(head["mean"]["induction"].is_null());  // the probe gives ids
        EXPECT_TRUE(head["mean"]["row_alignment"].is_null());
    }
    const Result bert = run("heads '" + kFixtures + "/hf-bert-tiny' --ids '" + kFixtures +
                            "/hf-bert-tiny/input_ids.npy' --attention-mask '" + kFixtures +
                            "/hf-bert-tiny/attention_mask.npy' --out '" + path("bert.csv") + "'");
    ASSERT_EQ(bert.exitCode, 0) << bert.err;
    EXPECT_NE(slurp(path("bert.csv")).find("layer,head,labels"), std::string::npos);
}

// The head atlas of the shipped induction-gpt (trained on copied spans, resources/models) on
// TransformerLens's probe finds its known heads: a previous-token head in layer 0 and induction
// heads in layer 1 (docs/language_models.md lists the scores).
TEST_F(HeadsCli, InductionGptHeadsAreLabelled) {
    const Result r = run("heads '" + std::string(FOVEA_SOURCE_DIR) +
                         "/resources/models/induction-gpt' --probe-repeat 12 --probes 8 --seed 900 --out '" +
                         path("induction.json") + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const nlohmann::json doc = nlohmann::json::parse(slurp(path("induction.json")));
    std::set<int> previousLayers, inductionLayers;
    for (const auto& head : doc["heads"]) {
        for (const auto& label : head["labels"]) {
            if (label == "previous-token") previousLayers.insert(head["layer"].get<int>());
            if (label == "induction") inductionLayers.insert(head["layer"].get<int>());
        }
    }
    EXPECT_EQ(previousLayers, (std::set<int>{0}));
    EXPECT_EQ(inductionLayers, (std::set<int>{1}));
}

TEST_F(HeadsCli, BadUseAndBadInput) {
    Result r = run("heads '" + kShapes + "' --scenes 1 --out '" + path("heads.txt") + "'");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--out heads.csv|heads.json"), std::string::npos) << r.err;
    r = run("heads '" + kShapes + "' '" + path("missing.png") + "' --out '" + path("heads.json") +
            "'");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("missing.png"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    r = run("heads '" + kShapes + "' --scenes 1 --k 1 --out '" + path("heads.json") + "'");
    EXPECT_EQ(r.exitCode, 2);
    r = run("heads '" + kShapes + "' --scenes 1 --layer 9 --out '" + path("heads.json") + "'");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("layer 9"), std::string::npos) << r.err;
    r = run("heads '" + kShapes + "' --probe-repeat 5 --out '" + path("heads.json") + "'");
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("takes images"), std::string::npos) << r.err;
}

}  // namespace
