// Tokenizer: text -> token ids for the language towers of BERT, GPT-2 / RoBERTa and CLIP, with
// every token's byte span in the original text, so views can show the text exactly as typed.
//
//     Tokenizer tokenizer = loadTokenizer("models/gpt2");  // tokenizer.json or the vocab files
//     Encoding encoding = tokenizer.encode("Hello world", {/*maxLength*/ 0, /*truncate*/ true});
//     encoding.tokens[1].display;                  // " world" ("Ġworld" in the vocabulary)
//     encoding.tokens[1].byteBegin;                // 5: "Hello world".substr(5, 6) == " world"
//     if (encoding.truncated) warn(encoding.truncationNotice());   // never silent
//     std::vector<int64_t> ids = encoding.ids();   // the model's input_ids
//     TokenLayout layout = tokenLayoutFor(encoding);  // TEXT / SPECIAL TokenInfo for the views
//
//     Encoding pair = bert.encodePair("How old?", "Ten.");  // [CLS] a [SEP] b [SEP], typeIds
//     0.. 1..
//
// Three families, chosen from the files (loadTokenizer says which files it read):
//   WordPiece (BERT; Devlin et al. 2019 and google-research/bert tokenization.py): clean control
//     characters, split on whitespace and punctuation, CJK ideographs as single words, optional
//     lower-casing and accent stripping, then greedy longest-match-first with "##" continuations.
//   Byte-level BPE (GPT-2 / RoBERTa; Radford et al. 2019, Sennrich et al. 2016): GPT-2's
//     pre-tokenisation pattern, bytes mapped to printable characters, merges applied by rank.
//   CLIP BPE (Radford et al. 2021): whitespace collapsed, lower-cased, CLIP's pattern, "</w>"
//     marks the end of each word, <|startoftext|> ... <|endoftext|>.
//
// A tokenizer is immutable once loaded; encode() and decode() may run on several threads at once.
#pragma once

#include "core/model/text_input.h"
#include "core/model/token_info.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fovea {

enum class TokenizerFamily { WordPiece, ByteLevelBpe, ClipBpe };

const char* tokenizerFamilyName(
    TokenizerFamily family);  // "wordpiece", "byte-level-bpe", "clip-bpe"

struct EncodedToken {
    int id = -1;
    std::string piece;     // as the vocabulary spells it: "Ġthe", "##ing", "the</w>", "[CLS]"
    std::string display;   // as it reads: " the", "ing", "the", "[CLS]"; bytes that are not whole
                           // UTF-8 characters (byte-level BPE splits emoji) appear as "\xF0\x9F"
    int byteBegin = -1;    // [byteBegin, byteEnd) in the original text of its segment; -1/-1 for
    int byteEnd = -1;      // special tokens the post-processor adds ([CLS], [SEP], <|endoftext|>)
    bool special = false;  // [CLS], [SEP], [MASK], <|endoftext|>, ... (also when typed in the text)
    int segment =
        0;  // 0: the first text, 1: the second text of a pair (its spans index `textPair`)
    int typeId =
        0;  // BERT's token_type_id (0 for the first sentence and its specials, 1 for the second)
};

struct EncodeOptions {
    // Longest allowed sequence, special tokens included. 0: the tokenizer's maxLength() (the
    // model's context: 512 for BERT, 1024 for GPT-2, 77 for CLIP); when that is unknown too, no
    // limit.
    int maxLength = 0;
    // What to do with a longer text: true cuts it (longest-first for pairs, special tokens kept)
    // and sets Encoding::truncated; false throws fovea::Error "text is N tokens, more than the
    // limit of M".
    bool truncate = true;
    // false: no [CLS]/[SEP]/<|startoftext|>..., only the text's own tokens.
    bool addSpecialTokens = true;
};

struct Encoding {
    std::vector<EncodedToken> tokens;
    std::string text;      // the first text, as given (byte spans of segment 0 index it)
    std::string textPair;  // the second text of encodePair (segment 1); empty otherwise
    bool isPair = false;
    bool truncated = false;     // tokens were cut to fit maxLength
    int untruncatedLength = 0;  // how many tokens the full text has, special tokens included
    int maxLength = 0;          // the limit that was applied (0: none)

    int size() const { return int(tokens.size()); }
    std::vector<int64_t> ids() const;
    std::vector<int64_t> typeIds() const;
    std::vector<int64_t> attentionMask() const;  // 1 per token (an encoding has no padding)
    // "text truncated to 1024 of 1500 tokens (the limit is 1024): the last 476 were cut", or ""
    // when nothing was cut; for the CLI and GUI to show.
    std::string truncationNotice() const;
    // The original text a token covers ("" for added special tokens).
    std::string originalText(int index) const;
};

struct SpecialTokens {
    // Vocabulary spellings, "" where the tokenizer has none. GPT-2 uses <|endoftext|> as bos, eos
    // and unk; BERT has cls/sep/pad/mask/unk; CLIP has bos <|startoftext|> and eos <|endoftext|>.
    std::string unk, cls, sep, pad, mask, bos, eos;
    int unkId = -1, clsId = -1, sepId = -1, padId = -1, maskId = -1, bosId = -1, eosId = -1;
};

struct TokenizerImpl;  // the family's vocabulary, merges and rules (core/tokenize/tokenizer_impl.h)

// A loaded tokenizer: a cheap-to-copy handle on immutable data. A default-constructed one is
// empty (operator bool false) and throws fovea::Error when used.
class Tokenizer {
  public:
    Tokenizer() = default;
    explicit Tokenizer(std::shared_ptr<const TokenizerImpl> impl);  // made by loadTokenizer

    explicit operator bool() const { return m_impl != nullptr; }
    TokenizerFamily family() const;

    Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
    // Sentence pairs (BERT: [CLS] a [SEP] b [SEP] with type ids 0 then 1; RoBERTa:
    // <s> a </s></s> b </s>); GPT-2, which has no pair template, concatenates the two texts.
    Encoding encodePair(std::string_view text, std::string_view textPair,
                        const EncodeOptions& options = {}) const;
    // Token ids back to text. Byte-level BPE gives back the exact bytes (decode(encode(x)) == x
    // when no special tokens are added); WordPiece and CLIP give the normalised words joined by
    // spaces. Throws fovea::Error for an id outside the vocabulary.
    std::string decode(const std::vector<int64_t>& ids, bool skipSpecialTokens = false) const;

    int vocabularySize() const;                   // highest id + 1
    int tokenToId(std::string_view token) const;  // -1 when absent
    std::string idToToken(int id) const;          // "" when absent
    bool isSpecialId(int id) const;
    const SpecialTokens& specialTokens() const;
    int maxLength() const;       // the model's context, special tokens included; 0 when unknown
    std::string source() const;  // the files it was read from
    // One line: "byte-level BPE, 50257 tokens, 50000 merges, context 1024 (.../tokenizer.json)".
    std::string describe() const;

  private:
    const TokenizerImpl& impl() const;
    std::vector<EncodedToken> tokenizeText(std::string_view text, int segment) const;
    Encoding assemble(std::vector<EncodedToken> first, std::vector<EncodedToken>* second,
                      std::string_view text, std::string_view textPair,
                      const EncodeOptions& options) const;

    std::shared_ptr<const TokenizerImpl> m_impl;
};

// Reads a tokenizer from a model folder (or a tokenizer.json file): tokenizer.json when present,
// else the classic files (vocab.txt + tokenizer_config.json for BERT; vocab.json + merges.txt for
// GPT-2 / RoBERTa / CLIP; CLIP's bpe_simple_vocab_16e6.txt(.gz) merges alone). config.json's
// model_type (bert, gpt2, roberta, clip) and context length are used when present. Unknown or
// broken files throw fovea::Error naming the file and the problem.
Tokenizer loadTokenizer(const std::string& path);

// Whether `folder` holds tokenizer files loadTokenizer would try (cheap: looks at names only).
bool hasTokenizerFiles(const std::string& folder);

// The encoding as the TokenLayout views read: one TokenKind::Text per text token (text = the
// original bytes it covers when they are valid UTF-8, else its display string; byte span;
// segment; token id) and TokenKind::Special for special tokens, all Modality::Text.
TokenLayout tokenLayoutFor(const Encoding& encoding);

// A typed text (and an optional second text: BERT pairs) as the model input: the ids, BERT's
// token types, the TokenLayout with byte spans, the text itself. The context limit is the
// tokenizer's (or, when it does not know one, the spec's contextLength). Longer text is cut with a
// notice in TextInput::notices (Truncate) or refused with an Error naming `source` (Refuse); empty
// text is an Error too. fitTextInput still checks the ids against the model afterwards.
TextInput textInputFromText(const Tokenizer& tokenizer, const std::string& text,
                            const std::string& textPair, const ModelSpec& spec,
                            ContextOverflow overflow, const std::string& source = "--text");

// The tokenizer of a model: its folder (or the folder of its .safetensors file). Throws Error
// naming the folder when it holds no tokenizer files.
Tokenizer loadModelTokenizer(const ModelSpec& spec);

}  // namespace fovea
