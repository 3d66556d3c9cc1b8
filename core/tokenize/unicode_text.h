// Unicode pieces the tokenizers need: UTF-8 decoding with byte offsets, character classes,
// full lower-casing, accent stripping and NFC, and a "normalised text" that remembers, for every
// byte it holds, which bytes of the original text produced it (so spans survive normalisation).
//
//     NormalizedText normal;
//     for (const CodePoint& c : decodeUtf8(text, 0, int(text.size()), "text"))
//         normal.append(lowerCase(c.value), c.begin, c.end);   // "É" -> "é", span of "É"
//     auto [begin, end] = normal.originOf(0, 2);                // bytes of the original
//
// Internal to core/tokenize. Why ICU (libicu-dev) rather than a generated table: the tokenizers
// need general categories, the White_Space property, full case mapping (İ -> i̇, final sigma) and
// canonical (de)composition; ICU has all four, exact and current (Unicode 15 in Debian 12's ICU
// 72), and is on every desktop Linux already (Qt links it). A hand-made table would have to
// reproduce the composition algorithm too.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fovea {

struct CodePoint {
    char32_t value = 0;
    int begin = 0;  // byte span in the decoded string
    int end = 0;
};

// Code points of text[begin, end). Invalid UTF-8 throws fovea::Error "<subject>: invalid UTF-8 at byte N".
std::vector<CodePoint> decodeUtf8(std::string_view text, int begin, int end, const std::string& subject);
void appendUtf8(std::string& out, char32_t value);
bool isValidUtf8(std::string_view bytes);
// The bytes as text: unchanged when valid UTF-8, else the bytes of incomplete or broken
// characters written as \xNN (what a token display shows for half an emoji).
std::string escapeInvalidUtf8(std::string_view bytes);

// General categories.
bool isLetter(char32_t c);       // L*
bool isNumber(char32_t c);       // N* (Nd, Nl, No)
bool isMark(char32_t c);         // Mn: what accent stripping removes
bool isWhiteSpace(char32_t c);   // the White_Space property (what \s matches in the GPT-2 / CLIP patterns)

// BERT's BasicTokenizer classes (google-research/bert tokenization.py), which differ from the
// Unicode properties on purpose: tab, newline and return are whitespace, not control.
bool isBertWhitespace(char32_t c);   // space, \t, \n, \r, or category Zs
bool isBertControl(char32_t c);      // category C* except \t \n \r
bool isBertPunctuation(char32_t c);  // ASCII 33-47, 58-64, 91-96, 123-126, or category P*
bool isCjkIdeograph(char32_t c);     // the CJK Unified Ideographs blocks BERT splits one by one

// Full lower-case mapping of one code point (may be several code points: İ -> i + U+0307).
// Capital sigma maps to final sigma ς when `atWordEnd` (Unicode's Final_Sigma condition, which
// the caller decides with isCased / isCaseIgnorable on the neighbours).
std::u32string lowerCase(char32_t c, bool atWordEnd = false);
bool isCased(char32_t c);
bool isCaseIgnorable(char32_t c);
// lowerCase of points[at], deciding final sigma from its neighbours in `points`.
std::u32string lowerCaseAt(const std::vector<CodePoint>& points, std::size_t at);
// NFD, then without nonspacing marks (Mn): "é" -> "e", "ñ" -> "n".
std::u32string stripAccents(const std::u32string& text);
// Canonical composition of a run of code points, and whether a code point starts a new run
// (nothing before it can compose with it or reorder across it).
std::u32string composeNfc(const std::u32string& text);
bool hasNfcBoundaryBefore(char32_t c);

// Text after normalisation, each byte knowing the original bytes it came from.
class NormalizedText {
public:
    // Appends `value` (UTF-8 encoded) as produced by original bytes [begin, end).
    void append(const std::u32string& value, int begin, int end);
    void append(char32_t value, int begin, int end);
    // Appends original bytes unchanged: byte i comes from exactly byte i.
    void appendVerbatim(std::string_view original, int begin, int end);
    // An original code point produced nothing (a dropped accent, a control character): the
    // characters just before it now cover it too, so spans of neighbouring tokens stay contiguous.
    void absorb(int begin, int end);

    const std::string& bytes() const { return m_bytes; }
    int size() const { return int(m_bytes.size()); }
    bool empty() const { return m_bytes.empty(); }
    // Original span of normalised bytes [from, to): from the first byte's origin to the last's.
    std::pair<int, int> originOf(int from, int to) const;

private:
    std::string m_bytes;
    std::vector<int> m_originBegin;
    std::vector<int> m_originEnd;
};

}  // namespace fovea
