// TextInput: a token sequence for a language model (GPT-2, BERT) or CLIP's text tower, with
// what each position means. The tokenizers (core/tokenize/) make one from a string; a sequence
// of ids can also come straight from an int64 .npy file or from a test.
//
//     TextInput input = loadTokenIds("ids.npy");            // int64 [1,T] or [T]
//     fitTextInput(input, model->spec(), ContextOverflow::Truncate);  // notice, never silent
//     ModelOutputs out = model->runText(input, CaptureRequest{});
//     for (const std::string& notice : input.notices) std::cerr << notice << "\n";
//
// Padding positions (attentionMask 0) are kept in the sequence, as Hugging Face models keep
// them: they are masked as keys, and their own rows are still computed.
#pragma once

#include "core/model/model_spec.h"
#include "core/model/token_info.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

// What to do with a sequence longer than the model's context.
enum class ContextOverflow { Refuse, Truncate };

struct TextInput {
    std::vector<std::int64_t> ids;
    std::vector<std::int64_t> tokenTypes;     // BERT segment ids; empty: all 0
    std::vector<std::int64_t> attentionMask;  // 1 real, 0 padding; empty: all real
    TokenLayout tokens;                       // meaning of each position; see textInputFromIds
    std::string text;                         // the text as typed (byte spans refer to it)
    std::string source;                       // a file, or "--text"
    std::vector<std::string> notices;         // what was done to the input (truncation)

    int size() const { return int(ids.size()); }
    bool isPadding(int position) const;
    // The last position that is not padding (-1 when there is none).
    int lastRealPosition() const;
};

// Ids without a tokenizer: every position is a TEXT token labelled "#<id>", except the ids the
// spec names as special (BOS, EOS, PAD, CLS, SEP), which are SPECIAL.
TextInput textInputFromIds(std::vector<std::int64_t> ids, const ModelSpec& spec, std::string source = {});
// An int64 (or int32) .npy of shape [T] or [1,T]. Throws Error naming the file otherwise.
TextInput loadTokenIds(const std::string& path, const ModelSpec& spec);
// Checks the input against the model (ids within the vocabulary, token types, mask, non-empty)
// and fits it to the context: Truncate keeps the first positions (and a trailing SPECIAL end
// token, such as CLIP's EOS or BERT's [SEP]) and adds a notice; Refuse throws Error. The limits
// are the spec's contextLength and vocabSize (CLIP: its text tower's).
void fitTextInput(TextInput& input, const ModelSpec& spec, ContextOverflow overflow);

}  // namespace fovea
