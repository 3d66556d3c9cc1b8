// What a Tokenizer holds, and the pieces the loaders assemble it from: the vocabulary, the
// family's model (WordPiece or byte-pair merges), the added tokens matched in the raw text and the
// post-processor's template. Internal to core/tokenize (tests include it to build tokenizers from
// vocabularies written in the test).
//
//     auto vocabulary = std::make_shared<Vocabulary>();
//     vocabulary->add("[UNK]", 0); ...
//     auto impl = std::make_shared<TokenizerImpl>();
//     impl->model = makeWordPieceModel(vocabulary, WordPieceOptions{});
//     impl->post = bertTemplate(...);
//     Tokenizer tokenizer(impl);
#pragma once

#include "core/tokenize/tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fovea {

class Vocabulary {
public:
    // Later entries win for a token that appears twice (as Hugging Face's vocab.txt reader does);
    // every id keeps its own spelling.
    void add(const std::string& token, int id);
    int find(std::string_view token) const;  // -1 when absent
    const std::string& token(int id) const;  // "" for an unused id
    int size() const { return int(m_tokens.size()); }  // highest id + 1

private:
    std::unordered_map<std::string, int> m_ids;
    std::vector<std::string> m_tokens;
};

// A token matched verbatim in the raw text before the model sees it ([MASK], <|endoftext|>).
struct AddedToken {
    std::string content;
    int id = -1;
    bool special = true;
    bool leftStrip = false;   // also takes the whitespace before it (RoBERTa's <mask>)
    bool rightStrip = false;  // ... and after it
};

// One item of a post-processor template: a special token or one of the input sequences.
struct TemplateItem {
    int sequence = -1;  // 0: the first text, 1: the second; -1: the special token below
    std::string token;
    int id = -1;
    int typeId = 0;
};

struct PostTemplate {
    std::vector<TemplateItem> single{{0, "", -1, 0}};
    std::vector<TemplateItem> pair{{0, "", -1, 0}, {1, "", -1, 1}};
    int specialCount(bool isPair) const;
};

// A piece of a decoded id sequence: an ordinary vocabulary piece, or an added token's content.
struct DecodePiece {
    std::string text;
    bool added = false;
};

// The family-specific work. Implementations are immutable and thread-safe.
class TokenModel {
public:
    virtual ~TokenModel() = default;
    // Appends the tokens of text[begin, end) (which holds no added token), byte spans relative
    // to the whole `text`. Throws fovea::Error for invalid UTF-8.
    virtual void tokenize(std::string_view text, int begin, int end, std::vector<EncodedToken>& out) const = 0;
    virtual std::string display(const std::string& piece) const = 0;
    virtual std::string decode(const std::vector<DecodePiece>& pieces) const = 0;
    virtual int mergeCount() const { return 0; }
};

struct TokenizerImpl {
    TokenizerFamily family = TokenizerFamily::WordPiece;
    std::shared_ptr<const Vocabulary> vocabulary;
    std::unique_ptr<const TokenModel> model;
    std::vector<AddedToken> added;
    PostTemplate post;
    SpecialTokens special;
    int maxLength = 0;
    std::string source;
};

struct WordPieceOptions {
    bool lowerCase = true;
    int stripAccents = -1;  // -1: as lowerCase (BERT's rule when strip_accents is unset), 0 no, 1 yes
    bool cleanText = true;  // drop control characters, whitespace becomes a space
    bool splitCjk = true;   // CJK ideographs are words of their own
    std::string continuationPrefix = "##";
    std::string unknownToken = "[UNK]";
    int maxCharactersPerWord = 100;
};

std::unique_ptr<TokenModel> makeWordPieceModel(std::shared_ptr<const Vocabulary> vocabulary,
                                               const WordPieceOptions& options);

// One merge rule, and where it was read (for error messages: "line 7", "model.merges[5]").
struct MergeRule {
    std::string first;
    std::string second;
    std::string where;
};

struct BytePairOptions {
    bool clip = false;            // CLIP: NFC + lower-case, CLIP's pattern, end-of-word suffix
    bool addPrefixSpace = false;  // GPT-2 / RoBERTa option: " " before text that lacks one
    std::string endOfWordSuffix;  // "</w>" for CLIP
    std::string unknownToken;     // used for a byte with no vocabulary entry; "" -> error
};

// Checks each merge against the vocabulary (both halves and their join must be tokens) and
// throws fovea::Error "<mergesFile>: <where>: ..." otherwise.
std::unique_ptr<TokenModel> makeBytePairModel(std::shared_ptr<const Vocabulary> vocabulary,
                                              const std::vector<MergeRule>& merges, const BytePairOptions& options,
                                              const std::string& mergesFile);

// GPT-2's mapping of the 256 byte values to printable characters (so a vocabulary stores bytes
// as text): bytes that print as themselves keep their code point, the other 68 become 256 + n.
const std::vector<char32_t>& byteToCharacter();

}  // namespace fovea
