// `fovea tokenize` end to end on the tiny tokenizers of tests/data/tokenizers: the JSON output
// other tools read, the table, truncation notices, refusals and usage errors with their exit codes.
#include "core/tokenize/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace fovea;

namespace {

const std::string kGpt2 = std::string(FOVEA_TEST_DATA_DIR) + "/tokenizers/gpt2-tiny-vocab";

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

std::string readAll(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

Result runFovea(const std::string& arguments) {
    const fs::path dir = fs::temp_directory_path() / ("fovea_tokenize_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string command = quote(FOVEA_CLI_PATH) + " " + arguments + " >" + quote((dir / "out").string()) +
                                " 2>" + quote((dir / "err").string());
    const int status = std::system(command.c_str());
    Result result;
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = readAll(dir / "out");
    result.err = readAll(dir / "err");
    fs::remove_all(dir);
    return result;
}

TEST(TokenizeCli, JsonMatchesTheLibrary) {
    const Result result = runFovea("tokenize " + quote(kGpt2) + " --text 'Hello  world' --json");
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const nlohmann::json json = nlohmann::json::parse(result.out);
    const Encoding expected = loadTokenizer(kGpt2).encode("Hello  world");
    EXPECT_EQ(json["ids"].get<std::vector<int64_t>>(), expected.ids());
    ASSERT_EQ(json["tokens"].size(), 3u);
    EXPECT_EQ(json["tokens"][2]["display"], " world");
    EXPECT_EQ(json["tokens"][2]["byte_begin"], 6);
    EXPECT_EQ(json["tokens"][2]["byte_end"], 12);
    EXPECT_EQ(json["family"], "byte-level-bpe");
    EXPECT_FALSE(json["truncated"].get<bool>());
}

TEST(TokenizeCli, TablePairsAndDecode) {
    const Result table = runFovea("tokenize " + quote(kGpt2) + " --text 'Hello world'");
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_NE(table.out.find("\" world\""), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("5-11"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("2 tokens"), std::string::npos) << table.out;
    const std::string bert = std::string(FOVEA_TEST_DATA_DIR) + "/tokenizers/bert-tiny-vocab";
    const Result pair = runFovea("tokenize " + quote(bert) + " --text Hello --text-pair 'the world' --json");
    ASSERT_EQ(pair.exitCode, 0) << pair.err;
    EXPECT_EQ(nlohmann::json::parse(pair.out)["tokens"][3]["type_id"], 1);
    // Hello = 262 and Ġworld = 267 in gpt2-tiny-vocab (256 bytes, then one token per merge).
    const Result decoded = runFovea("tokenize " + quote(kGpt2) + " --decode 262,267");
    ASSERT_EQ(decoded.exitCode, 0) << decoded.err;
    EXPECT_EQ(decoded.out, "Hello world\n");
}

TEST(TokenizeCli, LongTextIsRefusedOrTruncatedWithANotice) {
    std::string text;
    for (int i = 0; i < 70; ++i) text += "a ";  // 140 tokens ("a", " a", ..., " ")
    const Result refused = runFovea("tokenize " + quote(kGpt2) + " --text " + quote(text));
    EXPECT_EQ(refused.exitCode, 1);
    EXPECT_NE(refused.err.find("limit of 64"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find('\n'), refused.err.size() - 1) << refused.err;  // one line
    const Result cut = runFovea("tokenize " + quote(kGpt2) + " --text " + quote(text) + " --overflow truncate --json");
    ASSERT_EQ(cut.exitCode, 0) << cut.err;
    EXPECT_NE(cut.err.find("notice: text truncated to 64 of"), std::string::npos) << cut.err;
    EXPECT_EQ(nlohmann::json::parse(cut.out)["ids"].size(), 64u);
}

TEST(TokenizeCli, BadUse) {
    EXPECT_EQ(runFovea("tokenize " + quote(kGpt2)).exitCode, 2);  // no --text
    EXPECT_EQ(runFovea("tokenize " + quote(kGpt2) + " --text a --overflow maybe").exitCode, 2);
    const Result missing = runFovea("tokenize " + quote(fs::temp_directory_path().string()) + " --text a");
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_NE(missing.err.find("no tokenizer files"), std::string::npos) << missing.err;
}

}  // namespace
