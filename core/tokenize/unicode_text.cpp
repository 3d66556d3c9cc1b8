#include "core/tokenize/unicode_text.h"

#include "core/util/error.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <cstdio>

namespace fovea {

namespace {

// Length of the UTF-8 sequence that starts with `lead`, 0 when `lead` cannot start one.
int sequenceLength(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

// Decodes one character at text[at]; returns its length, or 0 for an invalid sequence
// (overlong forms, surrogates and values above U+10FFFF included).
int decodeOne(std::string_view text, std::size_t at, char32_t& value) {
    const auto lead = static_cast<unsigned char>(text[at]);
    const int length = sequenceLength(lead);
    if (length == 0 || at + std::size_t(length) > text.size()) return 0;
    if (length == 1) {
        value = lead;
        return 1;
    }
    char32_t result = lead & (0x7F >> length);
    for (int i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[at + std::size_t(i)]);
        if ((next & 0xC0) != 0x80) return 0;
        result = (result << 6) | (next & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (result < smallest[length] || result > 0x10FFFF || (result >= 0xD800 && result <= 0xDFFF)) return 0;
    value = result;
    return length;
}

std::u16string toUtf16(const std::u32string& text) {
    std::u16string out;
    for (char32_t c : text) {
        if (c > 0xFFFF) {
            out.push_back(char16_t(U16_LEAD(c)));
            out.push_back(char16_t(U16_TRAIL(c)));
        } else {
            out.push_back(char16_t(c));
        }
    }
    return out;
}

std::u32string toUtf32(const char16_t* text, int length) {
    std::u32string out;
    for (int i = 0; i < length;) {
        UChar32 c = 0;
        U16_NEXT(text, i, length, c);
        out.push_back(char32_t(c));
    }
    return out;
}

// Runs an ICU normaliser over `text`; ICU only fails here for out-of-memory.
std::u32string normalizeWith(const UNormalizer2* normalizer, const std::u32string& text) {
    const std::u16string source = toUtf16(text);
    std::u16string result(source.size() * 4 + 8, u'\0');
    UErrorCode status = U_ZERO_ERROR;
    const int length = unorm2_normalize(normalizer, reinterpret_cast<const UChar*>(source.data()),
                                        int(source.size()), reinterpret_cast<UChar*>(result.data()),
                                        int(result.size()), &status);
    if (U_FAILURE(status)) throw Error("Unicode normalisation", u_errorName(status));
    return toUtf32(result.data(), length);
}

const UNormalizer2* nfdInstance() {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* instance = unorm2_getNFDInstance(&status);
    if (U_FAILURE(status)) throw Error("ICU", std::string("NFD data unavailable: ") + u_errorName(status));
    return instance;
}

const UNormalizer2* nfcInstance() {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* instance = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) throw Error("ICU", std::string("NFC data unavailable: ") + u_errorName(status));
    return instance;
}

int category(char32_t c) { return u_charType(UChar32(c)); }

}  // namespace

std::vector<CodePoint> decodeUtf8(std::string_view text, int begin, int end, const std::string& subject) {
    std::vector<CodePoint> points;
    points.reserve(std::size_t(end - begin));
    for (int at = begin; at < end;) {
        char32_t value = 0;
        const int length = decodeOne(text.substr(0, std::size_t(end)), std::size_t(at), value);
        if (length == 0) throw Error(subject, "invalid UTF-8 at byte " + std::to_string(at));
        points.push_back({value, at, at + length});
        at += length;
    }
    return points;
}

void appendUtf8(std::string& out, char32_t value) {
    if (value < 0x80) {
        out.push_back(char(value));
    } else if (value < 0x800) {
        out.push_back(char(0xC0 | (value >> 6)));
        out.push_back(char(0x80 | (value & 0x3F)));
    } else if (value < 0x10000) {
        out.push_back(char(0xE0 | (value >> 12)));
        out.push_back(char(0x80 | ((value >> 6) & 0x3F)));
        out.push_back(char(0x80 | (value & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (value >> 18)));
        out.push_back(char(0x80 | ((value >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((value >> 6) & 0x3F)));
        out.push_back(char(0x80 | (value & 0x3F)));
    }
}

bool isValidUtf8(std::string_view bytes) {
    for (std::size_t at = 0; at < bytes.size();) {
        char32_t value = 0;
        const int length = decodeOne(bytes, at, value);
        if (length == 0) return false;
        at += std::size_t(length);
    }
    return true;
}

std::string escapeInvalidUtf8(std::string_view bytes) {
    std::string out;
    for (std::size_t at = 0; at < bytes.size();) {
        char32_t value = 0;
        const int length = decodeOne(bytes, at, value);
        if (length > 0) {
            out.append(bytes.substr(at, std::size_t(length)));
            at += std::size_t(length);
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned char>(bytes[at]));
            out += escaped;
            ++at;
        }
    }
    return out;
}

bool isLetter(char32_t c) { return (U_GET_GC_MASK(UChar32(c)) & U_GC_L_MASK) != 0; }
bool isNumber(char32_t c) { return (U_GET_GC_MASK(UChar32(c)) & U_GC_N_MASK) != 0; }
bool isMark(char32_t c) { return category(c) == U_NON_SPACING_MARK; }
bool isWhiteSpace(char32_t c) { return u_hasBinaryProperty(UChar32(c), UCHAR_WHITE_SPACE) != 0; }

bool isBertWhitespace(char32_t c) {
    return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || category(c) == U_SPACE_SEPARATOR;
}

bool isBertControl(char32_t c) {
    if (c == U'\t' || c == U'\n' || c == U'\r') return false;
    return (U_GET_GC_MASK(UChar32(c)) & U_GC_C_MASK) != 0;
}

bool isBertPunctuation(char32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    return (U_GET_GC_MASK(UChar32(c)) & U_GC_P_MASK) != 0;
}

bool isCjkIdeograph(char32_t c) {
    // The blocks listed in BERT's _is_chinese_char: CJK Unified Ideographs and extensions A-E,
    // and the compatibility ideographs. Hiragana, Katakana and Hangul are not among them.
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::u32string lowerCase(char32_t c, bool atWordEnd) {
    if (c < 0x80) return std::u32string(1, (c >= U'A' && c <= U'Z') ? c + 32 : c);
    if (c == 0x03A3) return std::u32string(1, atWordEnd ? char32_t(0x03C2) : char32_t(0x03C3));
    const std::u16string source = toUtf16(std::u32string(1, c));
    char16_t result[16];
    UErrorCode status = U_ZERO_ERROR;
    // The root locale: no Turkish or Lithuanian special cases, as Python's str.lower().
    const int length = u_strToLower(reinterpret_cast<UChar*>(result), 16, reinterpret_cast<const UChar*>(source.data()),
                                    int(source.size()), "", &status);
    if (U_FAILURE(status)) return std::u32string(1, c);
    return toUtf32(result, length);
}

bool isCased(char32_t c) { return u_hasBinaryProperty(UChar32(c), UCHAR_CASED) != 0; }
bool isCaseIgnorable(char32_t c) { return u_hasBinaryProperty(UChar32(c), UCHAR_CASE_IGNORABLE) != 0; }

std::u32string lowerCaseAt(const std::vector<CodePoint>& points, std::size_t at) {
    const char32_t c = points[at].value;
    if (c != 0x03A3) return lowerCase(c);
    // Unicode's Final_Sigma: a cased letter before (skipping case-ignorable characters) and no
    // cased letter after.
    bool casedBefore = false;
    for (std::size_t i = at; i-- > 0;) {
        if (isCaseIgnorable(points[i].value)) continue;
        casedBefore = isCased(points[i].value);
        break;
    }
    bool casedAfter = false;
    for (std::size_t i = at + 1; i < points.size(); ++i) {
        if (isCaseIgnorable(points[i].value)) continue;
        casedAfter = isCased(points[i].value);
        break;
    }
    return lowerCase(c, casedBefore && !casedAfter);
}

std::u32string stripAccents(const std::u32string& text) {
    std::u32string out;
    for (char32_t c : normalizeWith(nfdInstance(), text)) {
        if (!isMark(c)) out.push_back(c);
    }
    return out;
}

std::u32string composeNfc(const std::u32string& text) { return normalizeWith(nfcInstance(), text); }

bool hasNfcBoundaryBefore(char32_t c) { return unorm2_hasBoundaryBefore(nfcInstance(), UChar32(c)) != 0; }

void NormalizedText::append(const std::u32string& value, int begin, int end) {
    for (char32_t c : value) append(c, begin, end);
}

void NormalizedText::append(char32_t value, int begin, int end) {
    appendUtf8(m_bytes, value);
    m_originBegin.resize(m_bytes.size(), begin);
    m_originEnd.resize(m_bytes.size(), end);
}

void NormalizedText::appendVerbatim(std::string_view original, int begin, int end) {
    for (int at = begin; at < end; ++at) {
        m_bytes.push_back(original[std::size_t(at)]);
        m_originBegin.push_back(at);
        m_originEnd.push_back(at + 1);
    }
}

void NormalizedText::absorb(int begin, int end) {
    // Every trailing byte that ends where the dropped character starts is its neighbour.
    for (int i = int(m_bytes.size()) - 1; i >= 0 && m_originEnd[std::size_t(i)] == begin; --i) {
        m_originEnd[std::size_t(i)] = end;
    }
}

std::pair<int, int> NormalizedText::originOf(int from, int to) const {
    if (from >= to) return {-1, -1};
    int begin = m_originBegin[std::size_t(from)];
    int end = m_originEnd[std::size_t(from)];
    for (int i = from + 1; i < to; ++i) {
        begin = std::min(begin, m_originBegin[std::size_t(i)]);
        end = std::max(end, m_originEnd[std::size_t(i)]);
    }
    return {begin, end};
}

}  // namespace fovea
