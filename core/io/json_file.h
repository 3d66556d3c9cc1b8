// Reading and writing JSON files, plus the whole-file helpers that every io reader and writer
// shares (read a file into memory, replace a file atomically).
//
//     nlohmann::json config = fovea::readJsonFile(directory + "/config.json");
//     config["num_classes"] = 10;
//     fovea::writeJsonFile(directory + "/config.json", config);
//
//     fovea::writeFileAtomically("scores.csv", [&](std::ostream& out) { out << "a,b\n"; });
//
// All functions throw fovea::Error whose message names the file and the problem.
#pragma once

#include <exception>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fovea {

// Throws fovea::Error "cannot open" on a missing file and, on malformed JSON, an error with the
// line and column of the first problem.
nlohmann::json readJsonFile(const std::string& path);

// Writes `value` with `indent` spaces per level (a negative indent gives one compact line) and
// a trailing newline. Atomic: see writeFileAtomically.
void writeJsonFile(const std::string& path, const nlohmann::json& value, int indent = 2);

// The whole file as bytes; throws fovea::Error "cannot open" / "cannot read".
std::string readFileContents(const std::string& path);

// Calls `writeContent` on a stream to a temporary file beside `path`, flushes it to disk and
// renames it over `path`, so readers (and a crash midway) see either the old file or the
// complete new one, never a partial one. The temporary file is removed if `writeContent` throws
// or the write fails; exceptions from `writeContent` propagate unchanged.
void writeFileAtomically(const std::string& path,
                         const std::function<void(std::ostream&)>& writeContent);

// `text` made safe to embed in a one-line error message: control characters, and all bytes
// >= 0x80 unless the text is valid UTF-8, become \xNN. Names read from hostile files go through
// it, so a tensor called "a\nb" cannot split a message in two.
std::string printableText(std::string_view text);

// The part of a nlohmann exception's message worth showing a user: without the
// "[json.exception.parse_error.101] " prefix, and printable (a parse error quotes raw input).
std::string jsonErrorText(const std::exception& error);

}  // namespace fovea
