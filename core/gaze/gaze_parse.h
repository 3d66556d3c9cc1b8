// Internal helpers the gaze readers share: splitting delimited lines, parsing numbers with a
// message that names the line and field. Not part of the public core surface.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fovea::gaze_detail {

// Splits one line on `delimiter`; fields may be double-quoted ("a,b" and "" for a quote).
// Surrounding spaces are trimmed; a trailing '\r' is dropped.
std::vector<std::string> splitDelimited(std::string_view line, char delimiter);
// Splits on runs of spaces and tabs.
std::vector<std::string> splitWhitespace(std::string_view line);
std::string trimmed(std::string_view text);
std::string lowered(std::string_view text);

// The whole of `text` as a finite number ("1.5", "-2e3", and "1,5" when decimalComma); throws
// fovea::Error "<path>: line <line>: <field> is not a number ('<text>')".
double parseNumber(const std::string& text, const std::string& path, std::size_t line, const std::string& field,
                   bool decimalComma = false);

// The file's stem ("data/sub-01.asc" -> "sub-01").
std::string fileStem(const std::string& path);

}  // namespace fovea::gaze_detail
