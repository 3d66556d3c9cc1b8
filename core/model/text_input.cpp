#include "core/model/text_input.h"

#include "core/io/npy.h"
#include "core/util/error.h"

#include <algorithm>

namespace fovea {

bool TextInput::isPadding(int position) const {
    return !attentionMask.empty() && attentionMask.at(std::size_t(position)) == 0;
}

int TextInput::lastRealPosition() const {
    for (int i = size() - 1; i >= 0; --i) {
        if (!isPadding(i)) return i;
    }
    return -1;
}

TextInput textInputFromIds(std::vector<std::int64_t> ids, const ModelSpec& spec, std::string source) {
    TextInput input;
    input.ids = std::move(ids);
    input.source = std::move(source);
    std::vector<TokenInfo> tokens;
    int textOrdinal = 0, specialOrdinal = 0;
    for (const std::int64_t id : input.ids) {
        TokenInfo token;
        token.tokenId = int(id);
        const auto special = spec.specialTokens.find(id);
        if (special != spec.specialTokens.end()) {
            token.kind = TokenKind::Special;
            token.text = special->second;
            token.ordinal = specialOrdinal++;
        } else {
            token.kind = TokenKind::Text;
            token.text = "#" + std::to_string(id);
            token.ordinal = textOrdinal++;
        }
        tokens.push_back(token);
    }
    input.tokens = TokenLayout::forText(std::move(tokens));
    return input;
}

TextInput loadTokenIds(const std::string& path, const ModelSpec& spec) {
    const NpyArray array = readNpy(path);
    if (array.dtype != "<i8" && array.dtype != "<i4") {
        throw Error(path, "token ids have dtype " + array.dtype + "; expected int64 [T] or [1,T]");
    }
    const auto& shape = array.shape;
    if (!(shape.size() == 1 || (shape.size() == 2 && shape[0] == 1))) {
        std::string text = "[";
        for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
        throw Error(path, "token ids have shape " + text + "]; expected [T] or [1,T] (one sequence)");
    }
    return textInputFromIds(array.toInt64s(), spec, path);
}

namespace {

std::string subjectOf(const TextInput& input) { return input.source.empty() ? std::string("text input") : input.source; }

}  // namespace

void fitTextInput(TextInput& input, const ModelSpec& spec, ContextOverflow overflow) {
    const std::string subject = subjectOf(input);
    if (input.ids.empty()) throw Error(subject, "is empty: the model needs at least one token");
    const std::size_t n = input.ids.size();
    if (!input.tokenTypes.empty() && input.tokenTypes.size() != n) {
        throw Error(subject, "has " + std::to_string(input.tokenTypes.size()) + " token types for " + std::to_string(n) + " tokens");
    }
    if (!input.attentionMask.empty() && input.attentionMask.size() != n) {
        throw Error(subject, "has an attention mask of " + std::to_string(input.attentionMask.size()) + " for " +
                                 std::to_string(n) + " tokens");
    }
    if (input.tokens.size() != 0 && std::size_t(input.tokens.size()) != n) {
        throw Error(subject, "describes " + std::to_string(input.tokens.size()) + " tokens for " + std::to_string(n) + " ids");
    }
    const int vocab = spec.vocabSize;
    for (std::size_t i = 0; i < n; ++i) {
        if (input.ids[i] < 0 || (vocab > 0 && input.ids[i] >= vocab)) {
            throw Error(subject, "token id " + std::to_string(input.ids[i]) + " at position " + std::to_string(i) +
                                     " is outside the vocabulary (0.." + std::to_string(vocab - 1) + ")");
        }
    }
    for (std::size_t i = 0; i < input.tokenTypes.size(); ++i) {
        const std::int64_t type = input.tokenTypes[i];
        if (type < 0 || type >= std::max(1, spec.typeVocabSize)) {
            throw Error(subject, "token type " + std::to_string(type) + " at position " + std::to_string(i) +
                                     " is outside 0.." + std::to_string(std::max(1, spec.typeVocabSize) - 1));
        }
    }
    for (const std::int64_t m : input.attentionMask) {
        if (m != 0 && m != 1) throw Error(subject, "attention mask holds " + std::to_string(m) + "; expected 0 or 1");
    }
    if (input.lastRealPosition() < 0) throw Error(subject, "attention mask is all zero: no token to attend to");
    if (input.tokens.size() == 0) {
        TextInput described = textInputFromIds(input.ids, spec, input.source);
        input.tokens = described.tokens;
    }
    const int context = spec.contextLength;
    if (context <= 0 || int(n) <= context) return;
    if (overflow == ContextOverflow::Refuse) {
        throw Error(subject, "has " + std::to_string(n) + " tokens but the model's context is " + std::to_string(context) +
                                 " (truncate to fit, or shorten the text)");
    }
    // Keep a trailing end token (CLIP pools at its EOS; BERT's classifier expects the closing
    // [SEP]): drop text from just before it.
    int keepTail = 0;
    const auto& tokens = input.tokens.tokens();
    if (tokens.size() == n && tokens.back().kind == TokenKind::Special && context > 1) keepTail = 1;
    std::vector<std::size_t> kept;
    for (int i = 0; i < context - keepTail; ++i) kept.push_back(std::size_t(i));
    if (keepTail) kept.push_back(n - 1);
    auto select = [&](auto& values) {
        if (values.empty()) return;
        std::remove_reference_t<decltype(values)> out;
        for (std::size_t i : kept) out.push_back(values[i]);
        values = std::move(out);
    };
    select(input.ids);
    select(input.tokenTypes);
    select(input.attentionMask);
    std::vector<TokenInfo> keptTokens;
    for (std::size_t i : kept) keptTokens.push_back(tokens[i]);
    input.tokens = TokenLayout::forText(std::move(keptTokens));
    input.notices.push_back(subject + ": truncated from " + std::to_string(n) + " to " + std::to_string(context) +
                            " tokens (the model's context)" + (keepTail ? ", keeping the final " + input.tokens[context - 1].label() : ""));
}

}  // namespace fovea
