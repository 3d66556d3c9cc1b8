// The family-independent half of tokenisation: added tokens matched in the raw text, the
// post-processor's template (special tokens, type ids), truncation, decoding and the views'
// TokenLayout. The families' own work is in wordpiece.cpp and byte_pair.cpp.
#include "core/tokenize/tokenizer.h"

#include "core/tokenize/tokenizer_impl.h"
#include "core/tokenize/unicode_text.h"
#include "core/util/error.h"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace fovea {

const char* tokenizerFamilyName(TokenizerFamily family) {
    switch (family) {
        case TokenizerFamily::WordPiece:
            return "wordpiece";
        case TokenizerFamily::ByteLevelBpe:
            return "byte-level-bpe";
        case TokenizerFamily::ClipBpe:
            return "clip-bpe";
    }
    return "?";
}

void Vocabulary::add(const std::string& token, int id) {
    if (id < 0)
        throw Error("vocabulary", "negative id " + std::to_string(id) + " for \"" + token + "\"");
    if (std::size_t(id) >= m_tokens.size()) m_tokens.resize(std::size_t(id) + 1);
    m_tokens[std::size_t(id)] = token;
    m_ids[token] = id;
}

int Vocabulary::find(std::string_view token) const {
    const auto found = m_ids.find(std::string(token));
    return found == m_ids.end() ? -1 : found->second;
}

const std::string& Vocabulary::token(int id) const {
    static const std::string none;
    return id >= 0 && id < size() ? m_tokens[std::size_t(id)] : none;
}

int PostTemplate::specialCount(bool isPair) const {
    const auto& items = isPair ? pair : single;
    return int(std::count_if(items.begin(), items.end(),
                             [](const TemplateItem& item) { return item.sequence < 0; }));
}

std::vector<int64_t> Encoding::ids() const {
    std::vector<int64_t> out;
    for (const auto& token : tokens) out.push_back(token.id);
    return out;
}

std::vector<int64_t> Encoding::typeIds() const {
    std::vector<int64_t> out;
    for (const auto& token : tokens) out.push_back(token.typeId);
    return out;
}

std::vector<int64_t> Encoding::attentionMask() const {
    return std::vector<int64_t>(tokens.size(), 1);
}

std::string Encoding::truncationNotice() const {
    if (!truncated) return {};
    const std::string cut = std::to_string(untruncatedLength - size());
    return std::string(isPair ? "text pair" : "text") + " truncated to " + std::to_string(size()) +
           " of " + std::to_string(untruncatedLength) + " tokens (the limit is " +
           std::to_string(maxLength) + "): " +
           (isPair ? "the last tokens of the longer text, " + cut + " in all, were cut"
                   : "the last " + cut + " were cut");
}

std::string Encoding::originalText(int index) const {
    const EncodedToken& token = tokens.at(std::size_t(index));
    if (token.byteBegin < 0) return {};
    const std::string& source = token.segment == 1 ? textPair : text;
    return source.substr(std::size_t(token.byteBegin),
                         std::size_t(token.byteEnd - token.byteBegin));
}

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerImpl> impl) : m_impl(std::move(impl)) {}

const TokenizerImpl& Tokenizer::impl() const {
    if (!m_impl) throw Error("tokenizer", "none is loaded");
    return *m_impl;
}

TokenizerFamily Tokenizer::family() const {
    return impl().family;
}
const SpecialTokens& Tokenizer::specialTokens() const {
    return impl().special;
}
int Tokenizer::maxLength() const {
    return impl().maxLength;
}
std::string Tokenizer::source() const {
    return impl().source;
}

int Tokenizer::vocabularySize() const {
    int size = impl().vocabulary->size();
    for (const AddedToken& added : impl().added) size = std::max(size, added.id + 1);
    return size;
}

int Tokenizer::tokenToId(std::string_view token) const {
    for (const AddedToken& added : impl().added) {
        if (added.content == token) return added.id;
    }
    return impl().vocabulary->find(token);
}

std::string Tokenizer::idToToken(int id) const {
    for (const AddedToken& added : impl().added) {
        if (added.id == id) return added.content;
    }
    return impl().vocabulary->token(id);
}

bool Tokenizer::isSpecialId(int id) const {
    if (id < 0) return false;
    for (const AddedToken& added : impl().added) {
        if (added.id == id) return added.special;
    }
    const SpecialTokens& s = impl().special;
    return id == s.unkId || id == s.clsId || id == s.sepId || id == s.padId || id == s.maskId ||
           id == s.bosId || id == s.eosId;
}

std::string Tokenizer::describe() const {
    const TokenizerImpl& data = impl();
    const char* names[] = {"WordPiece", "byte-level BPE", "CLIP BPE"};
    std::string text =
        std::string(names[int(data.family)]) + ", " + std::to_string(vocabularySize()) + " tokens";
    if (data.model->mergeCount() > 0)
        text += ", " + std::to_string(data.model->mergeCount()) + " merges";
    text +=
        data.maxLength > 0 ? ", context " + std::to_string(data.maxLength) : ", no context limit";
    return text + " (" + data.source + ")";
}

namespace {

// The earliest added token in text[from, ...), the longest one where several start there.
const AddedToken* findAddedToken(const std::vector<AddedToken>& added, std::string_view text,
                                 std::size_t from, std::size_t& at) {
    const AddedToken* best = nullptr;
    at = std::string_view::npos;
    for (const AddedToken& token : added) {
        if (token.content.empty()) continue;
        const std::size_t found = text.find(token.content, from);
        if (found == std::string_view::npos) continue;
        if (found < at || (found == at && token.content.size() > best->content.size())) {
            best = &token;
            at = found;
        }
    }
    return best;
}

bool isSpaceAt(std::string_view text, std::size_t at) {
    const char c = text[at];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::vector<EncodedToken> Tokenizer::tokenizeText(std::string_view text, int segment) const {
    const TokenizerImpl& data = impl();
    std::vector<EncodedToken> tokens;
    std::size_t from = 0;
    while (from <= text.size()) {
        std::size_t at = 0;
        const AddedToken* added = findAddedToken(data.added, text, from, at);
        std::size_t matchBegin = added ? at : text.size();
        std::size_t matchEnd = added ? at + added->content.size() : text.size();
        if (added && added->leftStrip) {
            while (matchBegin > from && isSpaceAt(text, matchBegin - 1)) --matchBegin;
        }
        if (added && added->rightStrip) {
            while (matchEnd < text.size() && isSpaceAt(text, matchEnd)) ++matchEnd;
        }
        if (matchBegin > from) data.model->tokenize(text, int(from), int(matchBegin), tokens);
        if (!added) break;
        EncodedToken token;
        token.id = added->id;
        token.piece = added->content;
        token.display = added->content;
        token.special = added->special;
        token.byteBegin = int(matchBegin);
        token.byteEnd = int(matchEnd);
        tokens.push_back(std::move(token));
        from = matchEnd;
    }
    // Tokens the model made stay TEXT even when they are [UNK]: they stand for typed text.
    for (EncodedToken& token : tokens) token.segment = segment;
    return tokens;
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
    return assemble(tokenizeText(text, 0), nullptr, text, {}, options);
}

Encoding Tokenizer::encodePair(std::string_view text, std::string_view textPair,
                               const EncodeOptions& options) const {
    std::vector<EncodedToken> second = tokenizeText(textPair, 1);
    return assemble(tokenizeText(text, 0), &second, text, textPair, options);
}

Encoding Tokenizer::assemble(std::vector<EncodedToken> first, std::vector<EncodedToken>* second,
                             std::string_view text, std::string_view textPair,
                             const EncodeOptions& options) const {
    const TokenizerImpl& data = impl();
    const bool isPair = second != nullptr;
    std::vector<TemplateItem> items = isPair ? data.post.pair : data.post.single;
    if (!options.addSpecialTokens) {
        items.erase(std::remove_if(items.begin(), items.end(),
                                   [](const TemplateItem& i) { return i.sequence < 0; }),
                    items.end());
    }
    const int specials = int(std::count_if(items.begin(), items.end(),
                                           [](const TemplateItem& i) { return i.sequence < 0; }));
    std::size_t secondSize = isPair ? second->size() : 0;
    const int total = specials + int(first.size() + secondSize);

    Encoding encoding;
    encoding.text = std::string(text);
    encoding.textPair = std::string(textPair);
    encoding.isPair = isPair;
    encoding.untruncatedLength = total;
    encoding.maxLength = options.maxLength > 0 ? options.maxLength : data.maxLength;
    const int limit = encoding.maxLength;
    if (limit > 0 && total > limit) {
        const std::string what = isPair ? "text pair" : "text";
        if (!options.truncate) {
            throw Error(what, std::to_string(total) + " tokens (with " + std::to_string(specials) +
                                  " special) are more than the limit of " + std::to_string(limit) +
                                  "; shorten it or allow truncation");
        }
        const int budget = limit - specials;
        if (budget < 0) {
            throw Error(what, "the limit of " + std::to_string(limit) +
                                  " tokens leaves no room for the " + std::to_string(specials) +
                                  " special tokens");
        }
        // Longest first (Hugging Face's default for pairs): take one token from the end of the
        // longer sequence at a time, from the second on a tie.
        std::size_t firstSize = first.size();
        while (int(firstSize + secondSize) > budget) {
            if (firstSize > secondSize) {
                --firstSize;
            } else {
                --secondSize;
            }
        }
        first.resize(firstSize);
        if (isPair) second->resize(secondSize);
        encoding.truncated = true;
    }

    int segment = 0;  // a special token belongs to the sequence before it
    for (const TemplateItem& item : items) {
        if (item.sequence < 0) {
            EncodedToken token;
            token.id = item.id;
            token.piece = item.token;
            token.display = item.token;
            token.special = true;
            token.typeId = item.typeId;
            token.segment = segment;
            encoding.tokens.push_back(std::move(token));
            continue;
        }
        if (item.sequence == 1 && !isPair) continue;
        std::vector<EncodedToken>& sequence = item.sequence == 0 ? first : *second;
        segment = item.sequence;
        for (EncodedToken& token : sequence) {
            token.typeId = item.typeId;
            encoding.tokens.push_back(std::move(token));
        }
    }
    return encoding;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skipSpecialTokens) const {
    const TokenizerImpl& data = impl();
    std::vector<DecodePiece> pieces;
    for (int64_t id : ids) {
        if (id < 0 || id >= vocabularySize()) {
            throw Error("token ids", "id " + std::to_string(id) + " is outside the vocabulary of " +
                                         std::to_string(vocabularySize()) + " tokens");
        }
        if (skipSpecialTokens && isSpecialId(int(id))) continue;
        const auto added = std::find_if(data.added.begin(), data.added.end(),
                                        [&](const AddedToken& token) { return token.id == id; });
        if (added != data.added.end()) {
            pieces.push_back({added->content, true});
        } else {
            pieces.push_back({data.vocabulary->token(int(id)), false});
        }
    }
    return data.model->decode(pieces);
}

TokenLayout tokenLayoutFor(const Encoding& encoding) {
    std::vector<TokenInfo> tokens;
    int textCount = 0;
    int specialCount = 0;
    for (int i = 0; i < encoding.size(); ++i) {
        const EncodedToken& token = encoding.tokens[std::size_t(i)];
        TokenInfo info;
        info.kind = token.special ? TokenKind::Special : TokenKind::Text;
        info.modality = Modality::Text;
        info.ordinal = token.special ? specialCount++ : textCount++;
        const std::string original = encoding.originalText(i);
        info.text = (!token.special && !original.empty() && isValidUtf8(original)) ? original
                                                                                   : token.display;
        info.byteBegin = token.byteBegin;
        info.byteEnd = token.byteEnd;
        info.tokenId = token.id;
        info.segment = token.segment;
        tokens.push_back(std::move(info));
    }
    return TokenLayout::forText(std::move(tokens));
}

}  // namespace fovea

namespace fovea {

TextInput textInputFromText(const Tokenizer& tokenizer, const std::string& text,
                            const std::string& textPair, const ModelSpec& spec,
                            ContextOverflow overflow, const std::string& source) {
    if (text.empty() && textPair.empty()) throw Error(source, "the text is empty");
    EncodeOptions options;
    // The shorter of the two limits: a tiny model may have fewer positions than its tokenizer's
    // configured maximum.
    options.maxLength = tokenizer.maxLength();
    if (spec.contextLength > 0 &&
        (options.maxLength <= 0 || spec.contextLength < options.maxLength))
        options.maxLength = spec.contextLength;
    options.truncate = true;  // measured first, so that a refusal can say how long the text is
    Encoding encoding = textPair.empty() ? tokenizer.encode(text, options)
                                         : tokenizer.encodePair(text, textPair, options);
    if (encoding.truncated && overflow == ContextOverflow::Refuse) {
        throw Error(source, "text is " + std::to_string(encoding.untruncatedLength) +
                                " tokens, more than the model's context of " +
                                std::to_string(encoding.maxLength) + " (use truncation to cut it)");
    }
    TextInput input;
    input.ids = encoding.ids();
    // Segment ids only where a segment is not 0 (BERT pairs); GPT-2 and CLIP take none.
    input.tokenTypes = encoding.typeIds();
    if (std::all_of(input.tokenTypes.begin(), input.tokenTypes.end(), [](std::int64_t type) { return type == 0; })) input.tokenTypes.clear();
    input.tokens = tokenLayoutFor(encoding);
    input.text = encoding.text;
    input.source = source;
    const std::string notice = encoding.truncationNotice();
    if (!notice.empty()) input.notices.push_back(notice);
    return input;
}

Tokenizer loadModelTokenizer(const ModelSpec& spec) {
    std::filesystem::path folder(spec.sourcePath);
    if (!std::filesystem::is_directory(folder)) folder = folder.parent_path();
    if (folder.empty()) folder = ".";
    if (!hasTokenizerFiles(folder.string())) {
        throw Error(
            folder.string(),
            "holds no tokenizer files (tokenizer.json, vocab.txt, or vocab.json + merges.txt); "
            "pass token ids with --ids FILE.npy");
    }
    return loadTokenizer(folder.string());
}

}  // namespace fovea
