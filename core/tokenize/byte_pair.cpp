// Byte-pair encoding (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with
// Subword Units") over bytes, as GPT-2 (Radford et al. 2019, openai/gpt-2 encoder.py) and CLIP
// (Radford et al. 2021, openai/CLIP simple_tokenizer.py) use it: a word's UTF-8 bytes, each
// written as one printable character (byteToCharacter), are merged pairwise, always the pair
// whose merge rule comes first in the merges list, every occurrence of it left to right, until
// no adjacent pair has a rule. CLIP additionally lower-cases, splits with its own pattern and
// marks the last symbol of each word with "</w>".
#include "core/tokenize/pre_tokenize.h"
#include "core/tokenize/tokenizer_impl.h"
#include "core/tokenize/unicode_text.h"
#include "core/util/error.h"

#include <climits>
#include <cstdio>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace fovea {

const std::vector<char32_t>& byteToCharacter() {
    static const std::vector<char32_t> table = [] {
        std::vector<char32_t> mapping(256, 0);
        char32_t next = 256;
        for (int byte = 0; byte < 256; ++byte) {
            const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
            mapping[std::size_t(byte)] = printable ? char32_t(byte) : next++;
        }
        return mapping;
    }();
    return table;
}

namespace {

std::string characterOfByte(int byte) {
    std::string out;
    appendUtf8(out, byteToCharacter()[std::size_t(byte)]);
    return out;
}

class BytePairModel final : public TokenModel {
public:
    BytePairModel(std::shared_ptr<const Vocabulary> vocabulary, const std::vector<MergeRule>& merges,
                  BytePairOptions options, const std::string& mergesFile)
        : m_vocabulary(std::move(vocabulary)), m_options(std::move(options)), m_mergeCount(int(merges.size())) {
        for (std::size_t rank = 0; rank < merges.size(); ++rank) addMerge(merges[rank], int(rank), mergesFile);
        for (int byte = 0; byte < 256; ++byte) {
            const std::string character = characterOfByte(byte);
            m_byteIds[std::size_t(byte)] = m_vocabulary->find(character);
            m_finalByteIds[std::size_t(byte)] = m_vocabulary->find(character + m_options.endOfWordSuffix);
            m_characterToByte[byteToCharacter()[std::size_t(byte)]] = static_cast<unsigned char>(byte);
        }
        m_unknownId = m_options.unknownToken.empty() ? -1 : m_vocabulary->find(m_options.unknownToken);
    }

    void tokenize(std::string_view text, int begin, int end, std::vector<EncodedToken>& out) const override {
        NormalizedText normal;
        if (m_options.clip) {
            normal = normalizeClip(text, begin, end);
        } else {
            decodeUtf8(text, begin, end, "text");  // the pattern works on characters: reject bad UTF-8 here
            if (m_options.addPrefixSpace && end > begin && text[std::size_t(begin)] != ' ') {
                normal.append(U' ', begin, begin);
            }
            normal.appendVerbatim(text, begin, end);
        }
        const std::vector<WordSpan> words =
            m_options.clip ? splitClipWords(normal.bytes()) : splitGpt2Words(normal.bytes());
        for (const WordSpan& word : words) encodeWord(normal, word, out);
    }

    std::string display(const std::string& piece) const override {
        return escapeInvalidUtf8(pieceBytes(piece, ""));
    }

    std::string decode(const std::vector<DecodePiece>& pieces) const override {
        std::string text;
        for (const DecodePiece& piece : pieces) text += piece.added ? piece.text : pieceBytes(piece.text, " ");
        if (m_options.clip) {
            // CLIP's decoder turns "</w>" into a space and strips the ends.
            const std::size_t first = text.find_first_not_of(' ');
            const std::size_t last = text.find_last_not_of(' ');
            text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
        }
        return text;
    }

    int mergeCount() const override { return m_mergeCount; }

private:
    struct Symbol {
        int id;     // vocabulary id, -1 for a byte the vocabulary lacks
        int begin;  // bytes of the normalised text it covers
        int end;
    };

    static std::uint64_t pairKey(int first, int second) {
        return (std::uint64_t(std::uint32_t(first)) << 32) | std::uint32_t(second);
    }

    void addMerge(const MergeRule& rule, int rank, const std::string& mergesFile) {
        const std::string name = "merge \"" + rule.first + " " + rule.second + "\"";
        if (rule.first.empty() || rule.second.empty()) {
            throw Error(mergesFile, rule.where + ": " + name + " does not have two parts");
        }
        const int first = m_vocabulary->find(rule.first);
        const int second = m_vocabulary->find(rule.second);
        const int merged = m_vocabulary->find(rule.first + rule.second);
        for (const auto& [id, part] : {std::pair{first, rule.first}, std::pair{second, rule.second},
                                       std::pair{merged, rule.first + rule.second}}) {
            if (id < 0) {
                throw Error(mergesFile, rule.where + ": " + name + " names \"" + escapeInvalidUtf8(part) +
                                            "\", which is not in the vocabulary");
            }
        }
        // A rule listed twice keeps its later rank, as both reference implementations build a map.
        m_merges[pairKey(first, second)] = {rank, merged};
    }

    // CLIP's normaliser (the Hugging Face CLIP tokenizer.json: NFC, then lower-case); whitespace
    // needs no rewriting because the pattern drops it. openai/CLIP also runs ftfy and
    // html.unescape, which Fovea does not: "&amp;" stays four characters.
    static NormalizedText normalizeClip(std::string_view text, int begin, int end) {
        const std::vector<CodePoint> points = decodeUtf8(text, begin, end, "text");
        NormalizedText normal;
        for (std::size_t start = 0; start < points.size();) {
            std::size_t stop = start + 1;
            while (stop < points.size() && !hasNfcBoundaryBefore(points[stop].value)) ++stop;
            std::u32string run;
            for (std::size_t i = start; i < stop; ++i) run.push_back(points[i].value);
            const std::u32string composed = composeNfc(run);
            if (composed == run) {
                for (std::size_t i = start; i < stop; ++i) {
                    const std::u32string lower = lowerCaseAt(points, i);
                    // An unchanged character keeps exact byte spans (a token may hold half of it).
                    if (lower.size() == 1 && lower[0] == points[i].value) {
                        normal.appendVerbatim(text, points[i].begin, points[i].end);
                    } else {
                        normal.append(lower, points[i].begin, points[i].end);
                    }
                }
            } else {
                // A composed run maps as a whole to the original characters it came from.
                for (char32_t c : composed) normal.append(lowerCase(c), points[start].begin, points[stop - 1].end);
            }
            start = stop;
        }
        return normal;
    }

    void encodeWord(const NormalizedText& normal, const WordSpan& word, std::vector<EncodedToken>& out) const {
        const std::string& bytes = normal.bytes();
        std::vector<Symbol> symbols;
        for (int at = word.begin; at < word.end; ++at) {
            const auto byte = static_cast<unsigned char>(bytes[std::size_t(at)]);
            const bool last = at + 1 == word.end && !m_options.endOfWordSuffix.empty();
            symbols.push_back({last ? m_finalByteIds[byte] : m_byteIds[byte], at, at + 1});
        }
        mergeSymbols(symbols);
        for (const Symbol& symbol : symbols) {
            EncodedToken token;
            token.id = symbol.id >= 0 ? symbol.id : m_unknownId;
            if (token.id < 0) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(bytes[std::size_t(symbol.begin)]));
                throw Error("text", std::string("byte ") + hex +
                                        " has no token in the vocabulary, which has no unknown token");
            }
            token.piece = m_vocabulary->token(token.id);
            token.display = symbol.id >= 0 ? display(token.piece) : token.piece;
            std::tie(token.byteBegin, token.byteEnd) = normal.originOf(symbol.begin, symbol.end);
            out.push_back(std::move(token));
        }
    }

    void mergeSymbols(std::vector<Symbol>& symbols) const {
        while (symbols.size() > 1) {
            int bestRank = INT_MAX;
            std::pair<int, int> best{-1, -1};
            int bestMerged = -1;
            for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
                if (symbols[i].id < 0 || symbols[i + 1].id < 0) continue;
                const auto rule = m_merges.find(pairKey(symbols[i].id, symbols[i + 1].id));
                if (rule != m_merges.end() && rule->second.first < bestRank) {
                    bestRank = rule->second.first;
                    best = {symbols[i].id, symbols[i + 1].id};
                    bestMerged = rule->second.second;
                }
            }
            if (bestMerged < 0) return;
            std::vector<Symbol> merged;
            merged.reserve(symbols.size());
            for (std::size_t i = 0; i < symbols.size(); ++i) {
                if (i + 1 < symbols.size() && symbols[i].id == best.first && symbols[i + 1].id == best.second) {
                    merged.push_back({bestMerged, symbols[i].begin, symbols[i + 1].end});
                    ++i;
                } else {
                    merged.push_back(symbols[i]);
                }
            }
            symbols = std::move(merged);
        }
    }

    // The bytes a piece stands for; the end-of-word suffix becomes `suffixAs`. Characters outside
    // the byte alphabet (none in a proper vocabulary) are kept as their UTF-8.
    std::string pieceBytes(const std::string& piece, const std::string& suffixAs) const {
        std::string_view body = piece;
        bool hasSuffix = false;
        const std::string& suffix = m_options.endOfWordSuffix;
        if (!suffix.empty() && body.size() >= suffix.size() && body.substr(body.size() - suffix.size()) == suffix) {
            body.remove_suffix(suffix.size());
            hasSuffix = true;
        }
        std::string out;
        if (isValidUtf8(body)) {
            for (const CodePoint& point : decodeUtf8(body, 0, int(body.size()), "token")) {
                const auto byte = m_characterToByte.find(point.value);
                if (byte != m_characterToByte.end()) {
                    out.push_back(char(byte->second));
                } else {
                    appendUtf8(out, point.value);
                }
            }
        } else {
            out.append(body);
        }
        if (hasSuffix) out += suffixAs;
        return out;
    }

    std::shared_ptr<const Vocabulary> m_vocabulary;
    BytePairOptions m_options;
    int m_mergeCount = 0;
    std::unordered_map<std::uint64_t, std::pair<int, int>> m_merges;  // (first, second) -> (rank, merged id)
    int m_byteIds[256] = {};
    int m_finalByteIds[256] = {};
    std::unordered_map<char32_t, unsigned char> m_characterToByte;
    int m_unknownId = -1;
};

}  // namespace

std::unique_ptr<TokenModel> makeBytePairModel(std::shared_ptr<const Vocabulary> vocabulary,
                                              const std::vector<MergeRule>& merges, const BytePairOptions& options,
                                              const std::string& mergesFile) {
    return std::make_unique<BytePairModel>(std::move(vocabulary), merges, options, mergesFile);
}

}  // namespace fovea
