// Text formats: plain CSV/TSV fixations, EyeLink ASC and Tobii Pro Lab TSV; CSV writers; the
// format sniffer.
#include "core/gaze/gaze_io.h"
#include "core/gaze/gaze_parse.h"
#include "core/io/json_file.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

namespace fovea {
namespace gaze_detail {

std::string trimmed(std::string_view text) {
    std::size_t begin = 0, end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t' || text[begin] == '\r' || text[begin] == '\n'))
        ++begin;
    while (end > begin &&
           (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r' || text[end - 1] == '\n'))
        --end;
    return std::string(text.substr(begin, end - begin));
}

std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return out;
}

std::vector<std::string> splitDelimited(std::string_view line, char delimiter) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == delimiter) {
            fields.push_back(trimmed(field));
            field.clear();
        } else {
            field += c;
        }
    }
    fields.push_back(trimmed(field));
    return fields;
}

std::vector<std::string> splitWhitespace(std::string_view line) {
    std::vector<std::string> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n')) ++i;
        const std::size_t begin = i;
        while (i < line.size() && !(line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n')) ++i;
        if (i > begin) fields.emplace_back(line.substr(begin, i - begin));
    }
    return fields;
}

double parseNumber(const std::string& text, const std::string& path, std::size_t line, const std::string& field,
                   bool decimalComma) {
    std::string value = trimmed(text);
    if (decimalComma && value.find('.') == std::string::npos) std::replace(value.begin(), value.end(), ',', '.');
    char* end = nullptr;
    const double number = value.empty() ? 0.0 : std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(number)) {
        throw Error(path,
                    "line " + std::to_string(line) + ": " + field + " is not a number ('" + printableText(text) + "')");
    }
    return number;
}

std::string fileStem(const std::string& path) {
    return std::filesystem::path(path).stem().string();
}

}  // namespace gaze_detail

using namespace gaze_detail;

namespace {

std::vector<std::string> readLines(const std::string& path) {
    const std::string contents = readFileContents(path);
    std::vector<std::string> lines;
    std::size_t begin = 0;
    while (begin < contents.size()) {
        std::size_t end = contents.find('\n', begin);
        if (end == std::string::npos) end = contents.size();
        std::string line = contents.substr(begin, end - begin);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        begin = end + 1;
    }
    // A UTF-8 byte order mark (Tobii and Excel write one) is not part of the first field.
    if (!lines.empty() && lines[0].rfind("\xEF\xBB\xBF", 0) == 0) lines[0].erase(0, 3);
    return lines;
}

// Scanpaths in the order their (subject, image) first appears.
class ScanpathCollector {
public:
    Scanpath& pathFor(const std::string& subject, const std::string& image, const std::string& task = {}) {
        const auto key = std::make_tuple(subject, image, task);
        const auto found = m_index.find(key);
        if (found != m_index.end()) return m_paths[found->second];
        m_index.emplace(key, m_paths.size());
        Scanpath path;
        path.subject = subject;
        path.image = image;
        path.task = task;
        m_paths.push_back(std::move(path));
        return m_paths.back();
    }
    GazeDataset dataset() && {
        GazeDataset data;
        for (Scanpath& path : m_paths) data.add(std::move(path));
        return data;
    }

private:
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> m_index;
    std::vector<Scanpath> m_paths;
};

}  // namespace

GazeDataset readFixationCsv(const std::string& path, const GazeReadOptions& options) {
    const std::vector<std::string> lines = readLines(path);
    std::size_t headerLine = 0;
    while (headerLine < lines.size() && trimmed(lines[headerLine]).empty()) ++headerLine;
    if (headerLine == lines.size()) throw Error(path, "is empty (expected a header line x,y,duration)");
    const std::string& header = lines[headerLine];
    const char delimiter = header.find('\t') != std::string::npos  ? '\t'
                           : header.find(';') != std::string::npos ? ';'
                                                                   : ',';
    const std::vector<std::string> names = splitDelimited(header, delimiter);
    // Column aliases: MultiMatch's start_x/start_y, "onset" for start, "stimulus" for image.
    const std::map<std::string, std::string> aliases = {{"x", "x"},
                                                        {"start_x", "x"},
                                                        {"fixation_x", "x"},
                                                        {"y", "y"},
                                                        {"start_y", "y"},
                                                        {"fixation_y", "y"},
                                                        {"duration", "duration"},
                                                        {"dur", "duration"},
                                                        {"duration_ms", "duration_ms"},
                                                        {"start", "start"},
                                                        {"onset", "start"},
                                                        {"start_s", "start"},
                                                        {"subject", "subject"},
                                                        {"participant", "subject"},
                                                        {"image", "image"},
                                                        {"stimulus", "image"},
                                                        {"object", "object"},
                                                        {"aoi", "object"},
                                                        {"task", "task"}};
    std::map<std::string, std::size_t> column;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto alias = aliases.find(lowered(names[i]));
        if (alias != aliases.end() && !column.count(alias->second)) column[alias->second] = i;
    }
    for (const char* needed : {"x", "y"}) {
        if (!column.count(needed)) {
            throw Error(path, "line " + std::to_string(headerLine + 1) + ": the header has no '" + needed +
                                  "' column (expected x,y,duration[,subject,image])");
        }
    }
    if (!column.count("duration") && !column.count("duration_ms")) {
        throw Error(path, "line " + std::to_string(headerLine + 1) + ": the header has no 'duration' column (seconds)");
    }
    const std::string defaultSubject = options.subject.empty() ? fileStem(path) : options.subject;
    ScanpathCollector collector;
    bool anyStart = false;
    for (std::size_t i = headerLine + 1; i < lines.size(); ++i) {
        if (trimmed(lines[i]).empty() || lines[i][0] == '#') continue;
        const std::size_t lineNumber = i + 1;
        const std::vector<std::string> fields = splitDelimited(lines[i], delimiter);
        if (fields.size() < names.size()) {
            throw Error(path, "line " + std::to_string(lineNumber) + ": " + std::to_string(fields.size()) +
                                  " fields, the header has " + std::to_string(names.size()));
        }
        const auto text = [&](const char* name) {
            return column.count(name) ? fields[column.at(name)] : std::string();
        };
        Fixation fixation;
        fixation.x = parseNumber(text("x"), path, lineNumber, "x");
        fixation.y = parseNumber(text("y"), path, lineNumber, "y");
        fixation.duration = column.count("duration")
                                ? parseNumber(text("duration"), path, lineNumber, "duration")
                                : parseNumber(text("duration_ms"), path, lineNumber, "duration_ms") / 1000.0;
        if (fixation.duration < 0.0) throw Error(path, "line " + std::to_string(lineNumber) + ": duration is negative");
        if (column.count("start") && !text("start").empty()) {
            fixation.start = parseNumber(text("start"), path, lineNumber, "start");
            anyStart = true;
        } else {
            fixation.start = std::nan("");
        }
        if (column.count("object") && !text("object").empty()) {
            const double object = parseNumber(text("object"), path, lineNumber, "object");
            if (object != std::floor(object) || object < -1) {
                throw Error(path, "line " + std::to_string(lineNumber) + ": object must be an index >= 0 (or -1)");
            }
            fixation.object = int(object);
        }
        const std::string subject =
            column.count("subject") && !text("subject").empty() ? text("subject") : defaultSubject;
        const std::string image = column.count("image") && !text("image").empty() ? text("image") : options.image;
        collector.pathFor(subject, image, text("task")).fixations.push_back(fixation);
    }
    GazeDataset data = std::move(collector).dataset();
    GazeDataset result;
    for (Scanpath scanpath : data.allScanpaths()) {
        const bool complete = std::all_of(scanpath.fixations.begin(), scanpath.fixations.end(),
                                          [](const Fixation& f) { return !std::isnan(f.start); });
        if (!anyStart || !complete) setStartsFromDurations(scanpath);
        result.add(std::move(scanpath));
    }
    return result;
}

GazeDataset readEyeLinkAsc(const std::string& path, const GazeReadOptions& options) {
    const std::vector<std::string> lines = readLines(path);
    const std::string subject = options.subject.empty() ? fileStem(path) : options.subject;
    GazeDataset data;
    struct Block {
        std::size_t startLine = 0;
        double startTime = 0.0;
        std::optional<double> onset;
        std::string image, trial;
        cv::Point2d offset{0.0, 0.0};
        char eye = 0;
        std::vector<Fixation> fixations;  // start in tracker ms until the block ends
    };
    std::optional<Block> block;
    int blockCount = 0;
    const auto line = [&](std::size_t index) { return "line " + std::to_string(index + 1) + ": "; };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::vector<std::string> tokens = splitWhitespace(lines[i]);
        if (tokens.empty()) continue;
        const std::string& keyword = tokens[0];
        if (keyword == "START") {
            if (block)
                throw Error(path, line(i) + "START inside the block that began on line " +
                                      std::to_string(block->startLine + 1));
            if (tokens.size() < 2) throw Error(path, line(i) + "START needs a time");
            block = Block();
            block->startLine = i;
            block->startTime = parseNumber(tokens[1], path, i + 1, "START time");
            ++blockCount;
        } else if (keyword == "END") {
            if (!block) throw Error(path, line(i) + "END without START");
            Scanpath scanpath;
            scanpath.subject = subject;
            scanpath.image = !block->image.empty()    ? block->image
                             : !block->trial.empty()  ? block->trial
                             : !options.image.empty() ? options.image
                                                      : "trial " + std::to_string(blockCount);
            const double zero = block->onset.value_or(block->startTime);
            for (Fixation fixation : block->fixations) {
                fixation.start = (fixation.start - zero) / 1000.0;
                fixation.x -= block->offset.x;
                fixation.y -= block->offset.y;
                scanpath.fixations.push_back(fixation);
            }
            data.add(std::move(scanpath));
            block.reset();
        } else if (keyword == "MSG") {
            if (!block) continue;  // messages between trials (calibration, display setup)
            if (tokens.size() < 2) throw Error(path, line(i) + "MSG needs a time");
            const double time = parseNumber(tokens[1], path, i + 1, "MSG time");
            if (tokens.size() >= 3 && tokens[2] == options.onsetMessage && !options.onsetMessage.empty())
                block->onset = time;
            if (tokens.size() >= 4 && tokens[2] == "TRIALID") block->trial = tokens[3];
            if (tokens.size() >= 5 && tokens[2] == "!V" && tokens[3] == "IMGLOAD") {
                // !V IMGLOAD FILL|CENTER|TOP_LEFT <file> [x y [width height]] (Data Viewer's
                // convention): TOP_LEFT gives the image's top-left corner on the display, CENTER
                // its centre (with the size); FILL stretches it over the display (kept as is).
                const std::string& placement = tokens[4];
                if (tokens.size() < 6) throw Error(path, line(i) + "!V IMGLOAD needs a file name");
                block->image = std::filesystem::path(tokens[5]).filename().string();
                if (placement == "TOP_LEFT" && tokens.size() >= 8) {
                    block->offset = {parseNumber(tokens[6], path, i + 1, "IMGLOAD x"),
                                     parseNumber(tokens[7], path, i + 1, "IMGLOAD y")};
                } else if (placement == "CENTER" && tokens.size() >= 10) {
                    const double cx = parseNumber(tokens[6], path, i + 1, "IMGLOAD x");
                    const double cy = parseNumber(tokens[7], path, i + 1, "IMGLOAD y");
                    const double w = parseNumber(tokens[8], path, i + 1, "IMGLOAD width");
                    const double h = parseNumber(tokens[9], path, i + 1, "IMGLOAD height");
                    block->offset = {cx - w / 2.0, cy - h / 2.0};
                }
            }
        } else if (keyword == "EFIX") {
            if (!block) continue;
            // EFIX <eye> <start> <end> <duration> <x> <y> <pupil> [<x res> <y res>]
            if (tokens.size() < 8) {
                throw Error(path, line(i) + "EFIX needs eye, start, end, duration, x, y and pupil (" +
                                      std::to_string(tokens.size() - 1) + " fields)");
            }
            if (tokens[1] != "L" && tokens[1] != "R")
                throw Error(path, line(i) + "EFIX eye must be L or R ('" + printableText(tokens[1]) + "')");
            const char eye = tokens[1][0];
            const char wanted = options.eye != 0 ? options.eye : block->eye != 0 ? block->eye : eye;
            if (block->eye == 0 && options.eye == 0) block->eye = eye;
            if (eye != wanted) continue;
            Fixation fixation;
            fixation.start = parseNumber(tokens[2], path, i + 1, "EFIX start");
            parseNumber(tokens[3], path, i + 1, "EFIX end");
            fixation.duration = parseNumber(tokens[4], path, i + 1, "EFIX duration") / 1000.0;
            if (tokens[5] == "." || tokens[6] == ".") continue;  // no position (track loss)
            fixation.x = parseNumber(tokens[5], path, i + 1, "EFIX x");
            fixation.y = parseNumber(tokens[6], path, i + 1, "EFIX y");
            block->fixations.push_back(fixation);
        } else if (keyword == "ESACC") {
            if (!block) continue;
            // ESACC <eye> <start> <end> <duration> <sx> <sy> <ex> <ey> <amplitude> <peak velocity>
            if (tokens.size() < 10) {
                throw Error(path, line(i) +
                                      "ESACC needs eye, start, end, duration, start x/y, end x/y and amplitude (" +
                                      std::to_string(tokens.size() - 1) + " fields)");
            }
            for (std::size_t k = 2; k <= 4; ++k) parseNumber(tokens[k], path, i + 1, "ESACC time");
        }
    }
    if (block) throw Error(path, line(block->startLine) + "START without END");
    if (blockCount == 0) throw Error(path, "has no START ... END block (not an EyeLink ASC file?)");
    return data;
}

GazeDataset readTobiiTsv(const std::string& path, const GazeReadOptions& options) {
    const std::vector<std::string> lines = readLines(path);
    if (lines.empty()) throw Error(path, "is empty");
    const std::vector<std::string> header = splitDelimited(lines[0], '\t');
    // Names as Tobii Pro Lab writes them; a unit in brackets may follow ("Gaze event duration [ms]").
    std::map<std::string, std::size_t> column;
    std::map<std::string, std::string> unit;
    for (std::size_t i = 0; i < header.size(); ++i) {
        std::string name = header[i], unitText;
        const std::size_t bracket = name.find(" [");
        if (bracket != std::string::npos) {
            unitText = name.substr(bracket + 2, name.find(']', bracket) - bracket - 2);
            name = name.substr(0, bracket);
        }
        name = lowered(trimmed(name));
        if (!column.count(name)) {
            column[name] = i;
            unit[name] = unitText;
        }
    }
    for (const char* needed : {"eye movement type", "eye movement type index", "gaze event duration",
                               "fixation point x", "fixation point y"}) {
        if (!column.count(needed))
            throw Error(path, std::string("line 1: no '") + needed + "' column (not a Tobii Pro Lab export?)");
    }
    const std::string stimulusColumn = column.count("presented stimulus name") ? "presented stimulus name"
                                       : column.count("presented media name")  ? "presented media name"
                                                                               : "";
    const double timeScale = unit["recording timestamp"] == "ms"   ? 1e-3
                             : unit["recording timestamp"].empty() ? 1e-3
                                                                   : 1e-6;
    const double durationScale = unit["gaze event duration"] == "s"    ? 1.0
                                 : unit["gaze event duration"] == "μs" ? 1e-6
                                                                       : 1e-3;
    ScanpathCollector collector;
    std::map<std::pair<std::string, std::string>, double> onsets;  // (recording, stimulus) -> first timestamp
    std::set<std::string> seen;  // fixations already taken (their samples may be interleaved with other rows)
    for (std::size_t i = 1; i < lines.size(); ++i) {
        if (trimmed(lines[i]).empty()) continue;
        const std::size_t lineNumber = i + 1;
        const std::vector<std::string> fields = splitDelimited(lines[i], '\t');
        const auto field = [&](const std::string& name) -> std::string {
            const auto found = column.find(name);
            if (found == column.end() || found->second >= fields.size()) return {};
            return fields[found->second];
        };
        const std::string participant = field("participant name").empty()
                                            ? (options.subject.empty() ? fileStem(path) : options.subject)
                                            : field("participant name");
        const std::string recording = field("recording name");
        const std::string stimulus = stimulusColumn.empty() ? options.image : field(stimulusColumn);
        if (!stimulusColumn.empty() && stimulus.empty()) continue;  // between stimuli
        double timestamp = std::nan("");
        if (column.count("recording timestamp") && !field("recording timestamp").empty()) {
            timestamp =
                parseNumber(field("recording timestamp"), path, lineNumber, "Recording timestamp", true) * timeScale;
            onsets.emplace(std::make_pair(participant + "\n" + recording, stimulus), timestamp);
        }
        if (field("eye movement type") != "Fixation") continue;
        const std::string index = field("eye movement type index");
        if (index.empty())
            throw Error(path, "line " + std::to_string(lineNumber) + ": Eye movement type index is empty");
        const std::string key = participant + "\n" + recording + "\n" + stimulus + "\n" + index;
        if (!seen.insert(key).second) continue;  // another sample of the same fixation
        Fixation fixation;
        fixation.x = parseNumber(field("fixation point x"), path, lineNumber, "Fixation point X", true);
        fixation.y = parseNumber(field("fixation point y"), path, lineNumber, "Fixation point Y", true);
        fixation.duration =
            parseNumber(field("gaze event duration"), path, lineNumber, "Gaze event duration", true) * durationScale;
        const double onset = onsets.count({participant + "\n" + recording, stimulus})
                                 ? onsets.at({participant + "\n" + recording, stimulus})
                                 : 0.0;
        fixation.start = std::isnan(timestamp) ? std::nan("") : timestamp - onset;
        collector.pathFor(participant, stimulus).fixations.push_back(fixation);
    }
    GazeDataset result;
    for (Scanpath scanpath : std::move(collector).dataset().allScanpaths()) {
        if (std::any_of(scanpath.fixations.begin(), scanpath.fixations.end(),
                        [](const Fixation& f) { return std::isnan(f.start); })) {
            setStartsFromDurations(scanpath);
        }
        result.add(std::move(scanpath));
    }
    return result;
}

std::string gazeFormatName(GazeFormat format) {
    switch (format) {
        case GazeFormat::CocoSearch18:
            return "COCO-Search18 JSON";
        case GazeFormat::EyeLinkAsc:
            return "EyeLink ASC";
        case GazeFormat::TobiiTsv:
            return "Tobii Pro Lab TSV";
        case GazeFormat::OatJson:
            return "OAT book-cover JSON";
        case GazeFormat::Csv:
            return "CSV";
        case GazeFormat::FoveaJson:
            return "Fovea gaze JSON";
    }
    return "unknown";
}

GazeFormat detectGazeFormat(const std::string& path) {
    const std::string extension = lowered(std::filesystem::path(path).extension().string());
    if (extension == ".asc") return GazeFormat::EyeLinkAsc;
    if (extension == ".json") {
        const std::string contents = readFileContents(path);
        const std::size_t first = contents.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
        if (first != std::string::npos && contents[first] == '[') return GazeFormat::CocoSearch18;
        if (contents.find("\"fovea-gaze\"") != std::string::npos) return GazeFormat::FoveaJson;
        return GazeFormat::OatJson;
    }
    if (extension == ".tsv" || extension == ".txt" || extension == ".csv") {
        const std::vector<std::string> lines = readLines(path);
        if (!lines.empty() && lowered(lines[0]).find("eye movement type") != std::string::npos)
            return GazeFormat::TobiiTsv;
        return GazeFormat::Csv;
    }
    throw Error(path, "unknown gaze format (expected .json, .asc, .tsv or .csv)");
}

GazeDataset readGazeFile(const std::string& path, const GazeReadOptions& options) {
    switch (detectGazeFormat(path)) {
        case GazeFormat::CocoSearch18:
            return readCocoSearch18(path);
        case GazeFormat::EyeLinkAsc:
            return readEyeLinkAsc(path, options);
        case GazeFormat::TobiiTsv:
            return readTobiiTsv(path, options);
        case GazeFormat::OatJson:
            return readOatJson(path);
        case GazeFormat::Csv:
            return readFixationCsv(path, options);
        case GazeFormat::FoveaJson:
            return readGazeJson(path);
    }
    throw Error(path, "unknown gaze format");
}

Scanpath readScanpath(const std::string& path) {
    const GazeDataset data = readGazeFile(path);
    if (data.scanpathCount() != 1) {
        throw Error(path, "holds " + std::to_string(data.scanpathCount()) + " scanpaths; one is needed here");
    }
    return data.allScanpaths().front();
}

namespace {

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

void writeRows(std::ostream& out, const Scanpath& path) {
    for (const Fixation& f : path.fixations) {
        out << f.x << ',' << f.y << ',' << f.duration << ',' << f.start << ',' << csvField(path.subject) << ','
            << csvField(path.image) << ',' << f.object << '\n';
    }
}

}  // namespace

void writeFixationCsv(const std::string& path, const GazeDataset& dataset) {
    writeFileAtomically(path, [&](std::ostream& out) {
        out << std::setprecision(10) << "x,y,duration,start,subject,image,object\n";
        for (const Scanpath& scanpath : dataset.allScanpaths()) writeRows(out, scanpath);
    });
}

void writeScanpathCsv(const std::string& path, const Scanpath& scanpath) {
    writeFileAtomically(path, [&](std::ostream& out) {
        out << std::setprecision(10) << "x,y,duration,start,subject,image,object\n";
        writeRows(out, scanpath);
    });
}

}  // namespace fovea
