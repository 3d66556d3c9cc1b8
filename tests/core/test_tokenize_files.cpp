// Tokenizer files and the properties every encoding must have: tokenizer.json and the classic
// files agree; an independent implementation (Tokenizers.js, reference_encodings.json) agrees;
// byte spans tile or stay inside the text; byte-level BPE round-trips; truncation is never
// silent; broken files give one-line errors naming the file.
#include "core/io/json_file.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fovea {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(FOVEA_TEST_DATA_DIR) + "/tokenizers/";

std::vector<std::string> piecesOf(const Encoding& encoding) {
    std::vector<std::string> pieces;
    for (const auto& token : encoding.tokens) pieces.push_back(token.piece);
    return pieces;
}

EncodeOptions unlimited() { return {1 << 20, true, true}; }

// The sentences of make_reference_encodings.mjs and the tokenizers that encoded them.
TEST(TokenizerReference, MatchesTokenizersJsOnEveryReferenceSentence) {
    const nlohmann::json references = readJsonFile(kData + "reference_encodings.json");
    int checked = 0;
    for (const auto& [folder, entries] : references.items()) {
        const Tokenizer tokenizer = loadTokenizer(kData + folder);
        for (const auto& entry : entries) {
            const std::string text = entry["text"].get<std::string>();
            const Encoding encoding = entry.contains("pair")
                                          ? tokenizer.encodePair(text, entry["pair"].get<std::string>(), unlimited())
                                          : tokenizer.encode(text, unlimited());
            EXPECT_EQ(piecesOf(encoding), entry["tokens"].get<std::vector<std::string>>()) << folder << ": " << text;
            EXPECT_EQ(encoding.ids(), entry["ids"].get<std::vector<int64_t>>()) << folder << ": " << text;
            if (entry.contains("type_ids") && !entry["type_ids"].is_null()) {
                EXPECT_EQ(encoding.typeIds(), entry["type_ids"].get<std::vector<int64_t>>()) << folder << ": " << text;
            }
            ++checked;
        }
    }
    EXPECT_GE(checked, 70);
}

// The classic files and tokenizer.json describe the same tokenizers: same ids for every sentence.
TEST(TokenizerFiles, ClassicFilesAndTokenizerJsonAgree) {
    const nlohmann::json references = readJsonFile(kData + "reference_encodings.json");
    const std::pair<const char*, const char*> twins[] = {{"bert-tiny-vocab", "bert-tiny-json"},
                                                         {"gpt2-tiny-vocab", "gpt2-tiny-json"},
                                                         {"clip-tiny-vocab", "clip-tiny-json"},
                                                         {"clip-tiny-merges-only", "clip-tiny-json"}};
    for (const auto& [classic, json] : twins) {
        const Tokenizer a = loadTokenizer(kData + classic);
        const Tokenizer b = loadTokenizer(kData + json);
        EXPECT_EQ(a.family(), b.family()) << classic;
        EXPECT_EQ(a.vocabularySize(), b.vocabularySize()) << classic;
        EXPECT_EQ(a.maxLength(), b.maxLength()) << classic;
        for (const auto& entry : references[json]) {
            const std::string text = entry["text"].get<std::string>();
            EXPECT_EQ(a.encode(text, unlimited()).ids(), b.encode(text, unlimited()).ids()) << classic << ": " << text;
        }
    }
}

// A reproducible mix of what users type: ASCII, whitespace runs, Latin accents (composed and
// combining), Greek, CJK, emoji with joiners, digits, punctuation.
std::string randomText(std::mt19937& random) {
    static const std::vector<std::string> pieces = {
        "a", "Z", "the", " ", "  ", "\t", "\n", "\r\n", "'s", "'", "12", "!", ",", "\xC3\xA9", "e\xCC\x81",
        "\xCE\xA3", "\xCF\x82", "\xE4\xBD\xA0", "\xF0\x9F\x98\x80", "\xE2\x80\x8D", "\xF0\x9F\x91\xA9", "\xC2\xB2",
        "<", "|", "x", "\xE2\x80\xA6", "\xD9\x85", "\xE0\xA4\xB9\xE0\xA4\xBF"};
    std::string text;
    const int count = std::uniform_int_distribution<int>(0, 24)(random);
    for (int i = 0; i < count; ++i) {
        text += pieces[std::size_t(std::uniform_int_distribution<int>(0, int(pieces.size()) - 1)(random))];
    }
    return text;
}

TEST(TokenizerSpans, ByteLevelSpansTileTheTextAndDecodeRoundTrips) {
    std::mt19937 random(7);
    for (const char* folder : {"gpt2-tiny-vocab", "roberta-tiny-json"}) {
        const Tokenizer tokenizer = loadTokenizer(kData + folder);
        for (int trial = 0; trial < 300; ++trial) {
            const std::string text = randomText(random);
            const Encoding encoding = tokenizer.encode(text, {1 << 20, true, false});
            std::string joined;
            int next = 0;
            for (int i = 0; i < encoding.size(); ++i) {
                ASSERT_EQ(encoding.tokens[std::size_t(i)].byteBegin, next) << folder << ": " << text;
                next = encoding.tokens[std::size_t(i)].byteEnd;
                joined += encoding.originalText(i);
            }
            EXPECT_EQ(joined, text) << folder;
            EXPECT_EQ(tokenizer.decode(encoding.ids()), text) << folder;
        }
    }
}

TEST(TokenizerSpans, WordPieceAndClipSpansStayInOrderInsideTheText) {
    std::mt19937 random(11);
    for (const char* folder : {"bert-tiny-vocab", "clip-tiny-vocab"}) {
        const Tokenizer tokenizer = loadTokenizer(kData + folder);
        for (int trial = 0; trial < 300; ++trial) {
            const std::string text = randomText(random);
            const Encoding encoding = tokenizer.encode(text, unlimited());
            int previousBegin = 0;
            int previousEnd = 0;
            for (const EncodedToken& token : encoding.tokens) {
                if (token.special) {
                    EXPECT_EQ(token.byteBegin, -1);
                    continue;
                }
                ASSERT_GE(token.byteBegin, previousBegin) << folder << ": " << text;
                ASSERT_LT(token.byteBegin, token.byteEnd) << folder << ": " << text;
                ASSERT_LE(token.byteEnd, int(text.size())) << folder << ": " << text;
                // WordPiece pieces never overlap; CLIP's may share one composed character.
                if (folder == std::string("bert-tiny-vocab")) {
                    EXPECT_GE(token.byteBegin, previousEnd) << text;
                }
                previousBegin = token.byteBegin;
                previousEnd = token.byteEnd;
            }
        }
    }
}

TEST(TokenizerTruncation, CutsWithANoticeOrRefuses) {
    const Tokenizer bert = loadTokenizer(kData + "bert-tiny-vocab");
    // "hello world the" is 3 words + [CLS] [SEP] = 5; a limit of 4 keeps "hello world".
    const Encoding cut = bert.encode("hello world the", {4, true, true});
    EXPECT_EQ(piecesOf(cut), (std::vector<std::string>{"[CLS]", "hello", "world", "[SEP]"}));
    EXPECT_TRUE(cut.truncated);
    EXPECT_EQ(cut.untruncatedLength, 5);
    EXPECT_NE(cut.truncationNotice().find("4 of 5 tokens (the limit is 4): the last 1 were cut"), std::string::npos)
        << cut.truncationNotice();
    EXPECT_EQ(bert.encode("hello world", {4, true, true}).truncationNotice(), "");
    try {
        bert.encode("hello world the", {4, false, true});
        FAIL() << "no error";
    } catch (const Error& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("5 tokens"), std::string::npos) << message;
        EXPECT_NE(message.find("limit of 4"), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos);
    }
    // Longest first for pairs: (3, 1) tokens into 5 - 3 specials = 2: (2, 1), then (1, 1).
    const Encoding pair = bert.encodePair("hello world the", "cafe", {5, true, true});
    EXPECT_EQ(piecesOf(pair), (std::vector<std::string>{"[CLS]", "hello", "[SEP]", "cafe", "[SEP]"}));
    EXPECT_TRUE(pair.truncated);
    // The model's context (32 from config.json) applies by default.
    std::string longText;
    for (int i = 0; i < 40; ++i) longText += "the ";
    EXPECT_EQ(bert.encode(longText).size(), 32);
    EXPECT_THROW(bert.encode(longText, {0, false, true}), Error);
    // A limit below the special tokens' count is an error, not an empty cut.
    EXPECT_THROW(bert.encode("hello", {1, true, true}), Error);
}

TEST(TokenizerLayout, TextAndSpecialTokensForTheViews) {
    const Tokenizer bert = loadTokenizer(kData + "bert-tiny-vocab");
    // "Zürich" -> "zurich", which the vocabulary cannot spell: [CLS] hello [SEP] [UNK] [SEP].
    const TokenLayout layout = tokenLayoutFor(bert.encodePair("Hello", "Z\xC3\xBCrich"));
    ASSERT_EQ(layout.size(), 5);
    EXPECT_EQ(layout[0].kind, TokenKind::Special);
    EXPECT_EQ(layout[0].text, "[CLS]");
    EXPECT_EQ(layout[1].kind, TokenKind::Text);
    EXPECT_EQ(layout[1].modality, Modality::Text);
    EXPECT_EQ(layout[1].text, "Hello");  // as typed
    EXPECT_EQ(layout[1].tokenId, 9);
    EXPECT_EQ(layout[3].text, "Z\xC3\xBCrich");  // the [UNK] shows what it stands for
    EXPECT_EQ(layout[3].segment, 1);
    EXPECT_EQ(layout[4].segment, 1);
    EXPECT_EQ(layout.count(TokenKind::Special), 3);
    EXPECT_EQ(layout.firstOf(TokenKind::Text), 1);
    EXPECT_EQ(layout.toJson()["tokens"][1]["token_id"], 9);
    // Half an emoji shows its display string, not broken UTF-8.
    const TokenLayout emoji = tokenLayoutFor(loadTokenizer(kData + "gpt2-tiny-vocab").encode("\xF0\x9F\x98\x80"));
    EXPECT_EQ(emoji[0].text, "\\xF0\\x9F");
    EXPECT_THROW(TokenLayout::forText({TokenInfo{}}), Error);  // a PATCH token in a text layout
}

// ---- options in the folder's files ----

class TokenizerFolder : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("fovea_test_tokenize_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }

    void write(const std::string& name, const std::string& content) {
        std::ofstream(m_dir / name, std::ios::binary) << content;
    }
    void copy(const std::string& from) { fs::copy_file(kData + from, m_dir / fs::path(from).filename()); }
    std::string dir() const { return m_dir.string(); }

    // The error loadTokenizer throws for this folder (fails the test when there is none).
    std::string loadError() {
        try {
            loadTokenizer(dir());
        } catch (const Error& error) {
            const std::string message = error.what();
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
            return message;
        }
        ADD_FAILURE() << "loadTokenizer did not throw";
        return {};
    }

    fs::path m_dir;
};

TEST_F(TokenizerFolder, CasedWordPieceAndAccentsKept) {
    copy("bert-tiny-vocab/vocab.txt");
    // Cased: "Hello" is not in the vocabulary (only "hello"), so it is [UNK].
    write("tokenizer_config.json", R"({"do_lower_case": false})");
    EXPECT_EQ(piecesOf(loadTokenizer(dir()).encode("Hello hello")),
              (std::vector<std::string>{"[CLS]", "[UNK]", "hello", "[SEP]"}));
    // Lower-cased but accents kept: "Café" -> "café" (id 28), not "cafe".
    write("tokenizer_config.json", R"({"do_lower_case": true, "strip_accents": false})");
    EXPECT_EQ(loadTokenizer(dir()).encode("Caf\xC3\xA9").ids(), (std::vector<int64_t>{2, 28, 3}));
    EXPECT_EQ(loadTokenizer(dir()).maxLength(), 0);  // no config.json, no model_max_length: no limit
}

TEST_F(TokenizerFolder, AddPrefixSpaceAndFileArgument) {
    copy("gpt2-tiny-vocab/vocab.json");
    copy("gpt2-tiny-vocab/merges.txt");
    write("tokenizer_config.json", R"({"add_prefix_space": true, "model_max_length": 1e30})");
    const Tokenizer tokenizer = loadTokenizer(dir());
    // " world" gets its Ġ; the added space comes from no byte, so the span is the word's own.
    const Encoding encoding = tokenizer.encode("world");
    EXPECT_EQ(piecesOf(encoding), (std::vector<std::string>{"\xC4\xA0world"}));
    EXPECT_EQ(encoding.tokens[0].byteBegin, 0);
    EXPECT_EQ(encoding.tokens[0].byteEnd, 5);
    EXPECT_EQ(tokenizer.maxLength(), 0);  // 1e30 means "no limit" in transformers
    // A model file's folder, or tokenizer.json itself, can be named instead of the folder.
    write("model.safetensors", "");
    EXPECT_EQ(loadTokenizer(dir() + "/model.safetensors").vocabularySize(), tokenizer.vocabularySize());
    EXPECT_EQ(loadTokenizer(kData + "gpt2-tiny-json/tokenizer.json").family(), TokenizerFamily::ByteLevelBpe);
}

TEST_F(TokenizerFolder, BrokenJson) {
    write("tokenizer.json", "{\"model\": {\"type\": \"BPE\",");
    const std::string message = loadError();
    EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
}

TEST_F(TokenizerFolder, MissingMerges) {
    copy("gpt2-tiny-vocab/vocab.json");
    const std::string message = loadError();
    EXPECT_NE(message.find("merges.txt"), std::string::npos) << message;
    EXPECT_NE(message.find("missing"), std::string::npos) << message;
    // tokenizer.json without model.merges.
    write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "ByteLevel"}})");
    EXPECT_NE(loadError().find("model.merges is missing"), std::string::npos);
}

TEST_F(TokenizerFolder, MergeNamingAnUnknownToken) {
    write("vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
    write("merges.txt", "#version: 0.2\na b\na x\n");
    std::string message = loadError();
    EXPECT_NE(message.find("merges.txt: line 3"), std::string::npos) << message;
    EXPECT_NE(message.find("\"x\""), std::string::npos) << message;
    // The merged token must exist too.
    write("merges.txt", "b a\n");
    message = loadError();
    EXPECT_NE(message.find("\"ba\""), std::string::npos) << message;
    // A line that is not two tokens.
    write("merges.txt", "a b c\n");
    EXPECT_NE(loadError().find("line 1"), std::string::npos);
}

TEST_F(TokenizerFolder, BadVocabularyIds) {
    write("vocab.json", R"({"a": 0, "b": "one"})");
    write("merges.txt", "");
    const std::string message = loadError();
    EXPECT_NE(message.find("vocab.json"), std::string::npos) << message;
    EXPECT_NE(message.find("\"b\""), std::string::npos) << message;
}

TEST_F(TokenizerFolder, UnsupportedTokenizerJson) {
    write("tokenizer.json", R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})");
    EXPECT_NE(loadError().find("model.type \"Unigram\" is not supported"), std::string::npos);
    write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                               "pre_tokenizer": {"type": "Metaspace", "replacement": "_"}})");
    EXPECT_NE(loadError().find("Metaspace"), std::string::npos);
    write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                               "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                                 {"type": "Split", "pattern": {"Regex": "\\w+"}}, {"type": "ByteLevel"}]}})");
    EXPECT_NE(loadError().find("not GPT-2's"), std::string::npos);
    write("tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": 5})");
    EXPECT_NE(loadError().find("tokenizer.json"), std::string::npos);
}

TEST_F(TokenizerFolder, NoTokenizerFiles) {
    EXPECT_NE(loadError().find("no tokenizer files"), std::string::npos);
    EXPECT_FALSE(hasTokenizerFiles(dir()));
    EXPECT_TRUE(hasTokenizerFiles(kData + "bert-tiny-vocab"));
    EXPECT_THROW(loadTokenizer(dir() + "/absent"), Error);
    EXPECT_THROW(Tokenizer().encode("a"), Error);  // an empty handle
}

}  // namespace
}  // namespace fovea
