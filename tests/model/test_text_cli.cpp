// `fovea info / run / dump` on language and image-text models: token ids in, per-position
// logits, both attention stacks and token JSON out; token scores; CLIP's heatmap; and the bad
// inputs (ids out of range, wrong .npy dtype, text longer than the context) as one line each.
#include "core/io/npy.h"
#include "text_test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace fovea;
using namespace fovea::testing_text;

namespace {

struct Result {
    int exitCode = -1;
    std::string out, err;
};

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

class TextCli : public ::testing::Test {
  protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() /
                (std::string("fovea_text_cli_") +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    std::string path(const std::string& name) const { return (m_dir / name).string(); }
    Result run(const std::string& arguments) const {
        const std::string command = quote(FOVEA_CLI_PATH) + " " + arguments + " --threads 1 >" +
                                    quote(path("out.txt")) + " 2>" + quote(path("err.txt"));
        const int status = std::system(command.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, contents(path("out.txt")),
                contents(path("err.txt"))};
    }
    void expectOneLineError(const Result& r, const std::string& problem) const {
        EXPECT_EQ(r.exitCode, 1) << r.err;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
        EXPECT_NE(r.err.find(problem), std::string::npos) << r.err;
    }
    fs::path m_dir;
};

const std::string kGpt2 = kModels + "hf-gpt2-tiny";
const std::string kBert = kModels + "hf-bert-tiny";
const std::string kClip = kModels + "openai-clip-tiny";

TEST_F(TextCli, InfoOnEveryNewFamily) {
    for (const std::string& model : {kGpt2, kBert, kClip, kModels + "hf-clip-tiny"}) {
        const Result r = run("info " + quote(model) + " --json");
        ASSERT_EQ(r.exitCode, 0) << model << ": " << r.err;
        const nlohmann::json info = nlohmann::json::parse(r.out);
        EXPECT_GT(info["vocab_size"].get<int>(), 0) << model;
        EXPECT_GT(info["context_length"].get<int>(), 0) << model;
        EXPECT_EQ(run("info " + quote(model)).exitCode, 0);
    }
}

TEST_F(TextCli, DumpGpt2WritesPositionLogitsAttentionAndTokens) {
    const Result r = run("dump " + quote(kGpt2) + " --ids " + quote(kGpt2 + "/input_ids.npy") +
                         " --out " + quote(path("all.npz")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(path("all.npz"))) arrays[name] = array;
    ASSERT_TRUE(arrays.count("position_logits"));
    EXPECT_EQ(arrays["position_logits"].shape, (std::vector<std::int64_t>{12, 64}));
    EXPECT_LT(maxAbsDifference(arrays["position_logits"].toFloats(),
                               readNpy(kGpt2 + "/expected_logits.npy").toFloats()),
              1e-4f);
    EXPECT_EQ(arrays["attention_1"].shape, (std::vector<std::int64_t>{2, 12, 12}));
    const nlohmann::json tokens = nlohmann::json::parse(arrays["tokens"].toString());
    EXPECT_TRUE(tokens["causal"].get<bool>());
    EXPECT_EQ(tokens["tokens"].size(), 12u);
    EXPECT_EQ(tokens["tokens"][0]["kind"], "TEXT");
}

TEST_F(TextCli, DumpBertPairWithTypesAndPadding) {
    const Result r =
        run("dump " + quote(kBert) + " --ids " + quote(kBert + "/input_ids.npy") +
            " --token-types " + quote(kBert + "/token_type_ids.npy") + " --attention-mask " +
            quote(kBert + "/attention_mask.npy") + " --out " + quote(path("bert.npz")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(path("bert.npz"))) arrays[name] = array;
    EXPECT_LT(maxAbsDifference(arrays["logits"].toFloats(),
                               readNpy(kBert + "/expected_logits.npy").toFloats()),
              1e-4f);
    const nlohmann::json tokens = nlohmann::json::parse(arrays["tokens"].toString());
    EXPECT_EQ(tokens["key_mask"], nlohmann::json({1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
}

TEST_F(TextCli, DumpClipImageAndTextWritesBothStacks) {
    const Result r = run("dump " + quote(kClip) + " " + quote(kClip + "/input.png") + " --ids " +
                         quote(kClip + "/input_ids.npy") + " --out " + quote(path("clip.npz")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(path("clip.npz"))) arrays[name] = array;
    EXPECT_EQ(arrays["attention_0"].shape, (std::vector<std::int64_t>{2, 17, 17}));
    EXPECT_EQ(arrays["text_attention_1"].shape, (std::vector<std::int64_t>{2, 10, 10}));
    EXPECT_LT(maxAbsDifference(arrays["logits_per_image"].toFloats(),
                               readNpy(kClip + "/expected_logits_per_image.npy").toFloats()),
              1e-4f);
    EXPECT_TRUE(arrays.count("text_tokens"));
}

TEST_F(TextCli, RunWritesTokenScoresAndAClipHeatmap) {
    Result r =
        run("run " + quote(kGpt2) + " --ids " + quote(kGpt2 + "/input_ids.npy") +
            " --method integrated-gradients --param steps=32 --out " + quote(path("ig.json")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("completeness_gap"), std::string::npos);
    const nlohmann::json scores = nlohmann::json::parse(contents(path("ig.json")));
    EXPECT_EQ(scores["scores"].size(), 12u);
    EXPECT_EQ(scores["position"], 11);
    r = run("run " + quote(kBert) + " --ids " + quote(kBert + "/input_ids.npy") +
            " --target label_2 --method input-x-gradient --out " + quote(path("bert.npy")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(readNpy(path("bert.npy")).shape, (std::vector<std::int64_t>{11}));
    r = run("run " + quote(kClip) + " " + quote(kClip + "/input.png") + " --ids " +
            quote(kClip + "/input_ids.npy") + " --method chefer --out " + quote(path("map.png")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("similarity 1.08"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(path("map.png")));
}

TEST_F(TextCli, BadTextInputsAreOneLine) {
    writeNpy(path("big.npy"), NpyArray::fromInt64s({1, 3}, {1, 2, 99}));
    expectOneLineError(run("dump " + quote(kGpt2) + " --ids " + quote(path("big.npy")) + " --out " +
                           quote(path("x.npz"))),
                       "token id 99 at position 2 is outside the vocabulary (0..63)");
    writeNpy(path("float.npy"), NpyArray::fromFloats({3}, {1, 2, 3}));
    expectOneLineError(run("dump " + quote(kGpt2) + " --ids " + quote(path("float.npy")) +
                           " --out " + quote(path("x.npz"))),
                       "expected int64");
    std::vector<std::int64_t> many(40, 5);
    writeNpy(path("long.npy"), NpyArray::fromInt64s({40}, many));
    expectOneLineError(run("dump " + quote(kGpt2) + " --ids " + quote(path("long.npy")) +
                           " --out " + quote(path("x.npz"))),
                       "has 40 tokens but the model's context is 32");
    const Result truncated = run("dump " + quote(kGpt2) + " --ids " + quote(path("long.npy")) +
                                 " --overflow truncate --out " + quote(path("t.npz")));
    ASSERT_EQ(truncated.exitCode, 0) << truncated.err;
    EXPECT_NE(truncated.err.find("notice: "), std::string::npos);
    EXPECT_NE(truncated.err.find("truncated from 40 to 32 tokens"), std::string::npos);
    expectOneLineError(run("run " + quote(kGpt2) + " " + quote(kClip + "/input.png") + " --out " +
                           quote(path("m.png"))),
                       "takes text: pass --text \"...\" or token ids with --ids");
    EXPECT_EQ(run("dump " + quote(kGpt2) + " --ids " + quote(path("long.npy")) +
                  " --overflow maybe --out " + quote(path("t.npz")))
                  .exitCode,
              2);
}

// `--text` goes through the model folder's tokenizer: the tiny BERT fixture with the hand-made
// WordPiece vocabulary of tests/data/tokenizers/bert-tiny-vocab (30 entries, all inside the
// model's 60). The expected ids are derived by hand from that vocab.txt.
TEST_F(TextCli, TextAndPairGoThroughTheModelsTokenizer) {
    const std::string model = path("bert-with-vocab");
    fs::create_directories(model);
    fs::copy(kBert + "/config.json", model + "/config.json");
    fs::copy(kBert + "/model.safetensors", model + "/model.safetensors");
    const std::string vocab = std::string(FOVEA_TEST_DATA_DIR) + "/tokenizers/bert-tiny-vocab/";
    fs::copy(vocab + "vocab.txt", model + "/vocab.txt");
    fs::copy(vocab + "tokenizer_config.json", model + "/tokenizer_config.json");

    const Result r =
        run("dump " + quote(model) + " --text 'Hello world!' --text-pair 'the playing' --out " +
            quote(path("text.npz")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::map<std::string, NpyArray> arrays;
    for (auto& [name, array] : readNpz(path("text.npz"))) arrays[name] = array;
    // [CLS] hello world ! [SEP] the play ##ing [SEP]
    const std::vector<std::int64_t> expectedIds = {2, 9, 10, 12, 3, 5, 19, 20, 3};
    EXPECT_EQ(arrays["input_ids"].toInt64s(), expectedIds);
    const nlohmann::json tokens = nlohmann::json::parse(arrays["tokens"].toString())["tokens"];
    ASSERT_EQ(tokens.size(), expectedIds.size());
    EXPECT_EQ(tokens[0]["kind"], "SPECIAL");
    EXPECT_EQ(tokens[1]["text"], "Hello");  // as typed, not lower-cased
    EXPECT_EQ(tokens[1]["byte_begin"], 0);
    EXPECT_EQ(tokens[1]["byte_end"], 5);
    EXPECT_EQ(tokens[3]["byte_begin"], 11);
    EXPECT_EQ(tokens[7]["text"], "ing");
    EXPECT_EQ(tokens[7]["byte_begin"], 8);
    EXPECT_EQ(tokens[7]["segment"], 1);

    // The same ids and token types given as files produce the same outputs.
    writeNpy(path("ids.npy"), NpyArray::fromInt64s({9}, expectedIds));
    writeNpy(path("types.npy"), NpyArray::fromInt64s({9}, {0, 0, 0, 0, 0, 1, 1, 1, 1}));
    const Result byIds =
        run("dump " + quote(model) + " --ids " + quote(path("ids.npy")) + " --token-types " +
            quote(path("types.npy")) + " --out " + quote(path("ids.npz")));
    ASSERT_EQ(byIds.exitCode, 0) << byIds.err;
    std::map<std::string, NpyArray> fromIds;
    for (auto& [name, array] : readNpz(path("ids.npz"))) fromIds[name] = array;
    ASSERT_TRUE(arrays.count("last_hidden_state"));
    EXPECT_EQ(maxAbsDifference(arrays["last_hidden_state"].toFloats(),
                               fromIds["last_hidden_state"].toFloats()),
              0.0f);
    EXPECT_EQ(maxAbsDifference(arrays["attention_0"].toFloats(), fromIds["attention_0"].toFloats()),
              0.0f);

    // Longer than the 24 positions: refused by default, cut with a notice on request.
    std::string longText;
    for (int i = 0; i < 30; ++i) longText += "hello ";
    expectOneLineError(
        run("dump " + quote(model) + " --text '" + longText + "' --out " + quote(path("long.npz"))),
        "--text: text is 32 tokens, more than the model's context of 24");
    const Result cut = run("dump " + quote(model) + " --text '" + longText +
                           "' --overflow truncate --out " + quote(path("cut.npz")));
    ASSERT_EQ(cut.exitCode, 0) << cut.err;
    EXPECT_NE(cut.err.find("notice: text truncated to 24 of 32 tokens"), std::string::npos)
        << cut.err;

    expectOneLineError(run("dump " + quote(model) + " --text '' --out " + quote(path("empty.npz"))),
                       "--text: the text is empty");
    expectOneLineError(
        run("dump " + quote(kGpt2) + " --text 'hello' --out " + quote(path("none.npz"))),
        "holds no tokenizer files");
    EXPECT_EQ(
        run("dump " + quote(model) + " --text-pair 'x' --out " + quote(path("x.npz"))).exitCode, 2);
}

}  // namespace
