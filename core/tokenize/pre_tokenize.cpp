#include "core/tokenize/pre_tokenize.h"

#include "core/tokenize/unicode_text.h"

namespace fovea {

namespace {

bool isOther(char32_t c) { return !isWhiteSpace(c) && !isLetter(c) && !isNumber(c); }

// Length in code points of the contraction ('s 't 're 've 'm 'll 'd) at `at`, or 0. The
// patterns are case-sensitive, as in both originals ("'S" is not a contraction for GPT-2).
int contractionLength(const std::vector<CodePoint>& points, std::size_t at) {
    if (points[at].value != U'\'' || at + 1 >= points.size()) return 0;
    const char32_t next = points[at + 1].value;
    if (next == U's' || next == U't' || next == U'm' || next == U'd') return 2;
    if (at + 2 < points.size()) {
        const char32_t after = points[at + 2].value;
        if ((next == U'r' && after == U'e') || (next == U'v' && after == U'e') || (next == U'l' && after == U'l'))
            return 3;
    }
    return 0;
}

// End (exclusive, in code points) of the run from `at` whose characters satisfy `inClass`.
template <typename Predicate>
std::size_t runEnd(const std::vector<CodePoint>& points, std::size_t at, Predicate inClass) {
    while (at < points.size() && inClass(points[at].value)) ++at;
    return at;
}

WordSpan spanOf(const std::vector<CodePoint>& points, std::size_t from, std::size_t to) {
    return {points[from].begin, points[to - 1].end};
}

}  // namespace

std::vector<WordSpan> splitGpt2Words(std::string_view text) {
    const std::vector<CodePoint> points = decodeUtf8(text, 0, int(text.size()), "text");
    std::vector<WordSpan> words;
    std::size_t at = 0;
    while (at < points.size()) {
        std::size_t end = at;
        if (const int contraction = contractionLength(points, at)) {
            end = at + std::size_t(contraction);
        } else {
            // " ?X+" for the three classes: the optional space only counts when the class follows.
            std::size_t start = at;
            if (points[at].value == U' ' && at + 1 < points.size() && !isWhiteSpace(points[at + 1].value)) {
                start = at + 1;
            }
            const char32_t first = points[start].value;
            if (isLetter(first)) {
                end = runEnd(points, start, isLetter);
            } else if (isNumber(first)) {
                end = runEnd(points, start, isNumber);
            } else if (isOther(first)) {
                end = runEnd(points, start, isOther);
            } else {
                // \s+(?!\S) | \s+ : a whitespace run, less its last character when a
                // non-space follows (that character then leads the next word).
                const std::size_t runStop = runEnd(points, at, isWhiteSpace);
                end = (runStop < points.size() && runStop - at >= 2) ? runStop - 1 : runStop;
            }
        }
        words.push_back(spanOf(points, at, end));
        at = end;
    }
    return words;
}

std::vector<WordSpan> splitClipWords(std::string_view text) {
    const std::vector<CodePoint> points = decodeUtf8(text, 0, int(text.size()), "text");
    std::vector<WordSpan> words;
    std::size_t at = 0;
    while (at < points.size()) {
        const char32_t first = points[at].value;
        std::size_t end = at + 1;
        if (isWhiteSpace(first)) {
            ++at;  // findall skips what no alternative matches
            continue;
        }
        if (const int contraction = contractionLength(points, at)) {
            end = at + std::size_t(contraction);
        } else if (isLetter(first)) {
            end = runEnd(points, at, isLetter);
        } else if (isNumber(first)) {
            end = at + 1;  // [\p{N}]: one digit per word
        } else {
            end = runEnd(points, at, isOther);
        }
        words.push_back(spanOf(points, at, end));
        at = end;
    }
    return words;
}

std::vector<WordSpan> splitBertWords(std::string_view text, bool splitCjk) {
    const std::vector<CodePoint> points = decodeUtf8(text, 0, int(text.size()), "text");
    std::vector<WordSpan> words;
    std::size_t wordStart = 0;
    bool inWord = false;
    auto close = [&](std::size_t at) {
        if (inWord) words.push_back(spanOf(points, wordStart, at));
        inWord = false;
    };
    for (std::size_t at = 0; at < points.size(); ++at) {
        const char32_t c = points[at].value;
        if (isBertWhitespace(c) || isWhiteSpace(c)) {
            close(at);
        } else if (isBertPunctuation(c) || (splitCjk && isCjkIdeograph(c))) {
            close(at);
            words.push_back(spanOf(points, at, at + 1));
        } else if (!inWord) {
            wordStart = at;
            inWord = true;
        }
    }
    close(points.size());
    return words;
}

}  // namespace fovea
