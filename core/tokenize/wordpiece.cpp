// WordPiece (Wu et al. 2016, "Google's Neural Machine Translation System"; as used by BERT,
// Devlin et al. 2019): BERT's BasicTokenizer normalisation and splitting, then greedy
// longest-match-first sub-words with a continuation prefix, following google-research/bert
// tokenization.py and the Hugging Face BertNormalizer / BertPreTokenizer / WordPiece model.
//
// Differences from transformers' Python BertTokenizer, on purpose: no NFC before the other
// steps (the Rust "fast" tokenizer, which is what tokenizer.json describes, has none either);
// lower-casing is Unicode's full mapping with final sigma (as Python's and Rust's lower()).
#include "core/tokenize/pre_tokenize.h"
#include "core/tokenize/tokenizer_impl.h"
#include "core/tokenize/unicode_text.h"
#include "core/util/error.h"

#include <tuple>
#include <utility>

namespace fovea {

namespace {

class WordPieceModel final : public TokenModel {
public:
    WordPieceModel(std::shared_ptr<const Vocabulary> vocabulary, WordPieceOptions options)
        : m_vocabulary(std::move(vocabulary)), m_options(std::move(options)) {
        m_unknownId = m_vocabulary->find(m_options.unknownToken);
        m_stripAccents = m_options.stripAccents < 0 ? m_options.lowerCase : m_options.stripAccents == 1;
    }

    void tokenize(std::string_view text, int begin, int end, std::vector<EncodedToken>& out) const override {
        const NormalizedText normal = normalize(text, begin, end);
        const std::string& bytes = normal.bytes();
        for (const WordSpan& word : splitBertWords(bytes, m_options.splitCjk)) {
            splitWord(normal, word, out);
        }
    }

    std::string display(const std::string& piece) const override {
        const std::string& prefix = m_options.continuationPrefix;
        if (!prefix.empty() && piece.size() > prefix.size() && piece.compare(0, prefix.size(), prefix) == 0)
            return piece.substr(prefix.size());
        return piece;
    }

    std::string decode(const std::vector<DecodePiece>& pieces) const override {
        std::string text;
        for (const DecodePiece& piece : pieces) {
            const std::string shown = piece.added ? piece.text : display(piece.text);
            const bool continues = !piece.added && shown.size() != piece.text.size();
            if (!text.empty() && !continues) text += ' ';
            text += shown;
        }
        return cleanUpSpaces(text);
    }

private:
    // BertNormalizer: drop NUL, U+FFFD and control characters, whitespace becomes " ",
    // lower-case (with final sigma), strip accents (NFD then without Mn).
    NormalizedText normalize(std::string_view text, int begin, int end) const {
        const std::vector<CodePoint> points = decodeUtf8(text, begin, end, "text");
        NormalizedText normal;
        for (std::size_t i = 0; i < points.size(); ++i) {
            const CodePoint& point = points[i];
            const char32_t c = point.value;
            if (m_options.cleanText && (c == 0 || c == 0xFFFD || isBertControl(c))) {
                normal.absorb(point.begin, point.end);
                continue;
            }
            if (m_options.cleanText && isBertWhitespace(c)) {
                normal.append(U' ', point.begin, point.end);
                continue;
            }
            std::u32string value = m_options.lowerCase ? lowerCaseAt(points, i) : std::u32string(1, c);
            if (m_stripAccents) value = stripAccents(value);
            if (value.empty()) {
                normal.absorb(point.begin, point.end);
            } else {
                normal.append(value, point.begin, point.end);
            }
        }
        return normal;
    }

    // Greedy longest-match-first: the longest vocabulary entry that starts the rest of the word
    // (with the continuation prefix after the first piece); a word with a position no entry
    // matches, or longer than maxCharactersPerWord, is one unknown token.
    void splitWord(const NormalizedText& normal, const WordSpan& word, std::vector<EncodedToken>& out) const {
        const std::string& bytes = normal.bytes();
        const std::vector<CodePoint> points = decodeUtf8(bytes, word.begin, word.end, "text");
        if (int(points.size()) > m_options.maxCharactersPerWord) {
            out.push_back(unknownToken(normal, word));
            return;
        }
        std::vector<EncodedToken> pieces;
        std::size_t start = 0;
        while (start < points.size()) {
            bool found = false;
            for (std::size_t stop = points.size(); stop > start; --stop) {
                const int from = points[start].begin;
                const int to = points[stop - 1].end;
                std::string candidate = start > 0 ? m_options.continuationPrefix : std::string();
                candidate.append(bytes, std::size_t(from), std::size_t(to - from));
                const int id = m_vocabulary->find(candidate);
                if (id < 0) continue;
                EncodedToken token;
                token.id = id;
                token.display = display(candidate);
                token.piece = std::move(candidate);
                std::tie(token.byteBegin, token.byteEnd) = normal.originOf(from, to);
                pieces.push_back(std::move(token));
                start = stop;
                found = true;
                break;
            }
            if (!found) {
                out.push_back(unknownToken(normal, word));
                return;
            }
        }
        for (EncodedToken& piece : pieces) out.push_back(std::move(piece));
    }

    EncodedToken unknownToken(const NormalizedText& normal, const WordSpan& word) const {
        if (m_unknownId < 0) {
            throw Error("text", "the word \"" + escapeInvalidUtf8(normal.bytes().substr(
                                    std::size_t(word.begin), std::size_t(word.end - word.begin))) +
                                    "\" has no WordPiece split and the vocabulary has no unknown token " +
                                    m_options.unknownToken);
        }
        EncodedToken token;
        token.id = m_unknownId;
        token.piece = m_options.unknownToken;
        token.display = m_options.unknownToken;
        std::tie(token.byteBegin, token.byteEnd) = normal.originOf(word.begin, word.end);
        return token;
    }

    // transformers' clean_up_tokenization: no space before . , ! ? and English contractions.
    static std::string cleanUpSpaces(std::string text) {
        const std::pair<const char*, const char*> rules[] = {
            {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
            {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : rules) {
            const std::string pattern = from;
            for (std::size_t at = text.find(pattern); at != std::string::npos; at = text.find(pattern, at)) {
                text.replace(at, pattern.size(), to);
            }
        }
        return text;
    }

    std::shared_ptr<const Vocabulary> m_vocabulary;
    WordPieceOptions m_options;
    int m_unknownId = -1;
    bool m_stripAccents = true;
};

}  // namespace

std::unique_ptr<TokenModel> makeWordPieceModel(std::shared_ptr<const Vocabulary> vocabulary,
                                               const WordPieceOptions& options) {
    return std::make_unique<WordPieceModel>(std::move(vocabulary), options);
}

}  // namespace fovea
