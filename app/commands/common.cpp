#include "app/commands/common.h"

#include "core/util/error.h"

#include <cstdlib>

namespace fovea::cli {

const std::set<std::string>& runtimeOptionNames() {
    static const std::set<std::string> names = {"device", "threads"};
    return names;
}

RuntimeOptions runtimeFromArgs(const Args& args) {
    RuntimeOptions options;
    options.device = args.value("device", "auto");
    options.threads = args.intValue("threads", 0);
    if (options.threads < 0) throw UsageError{"--threads must be 0 (all cores) or positive"};
    return options;
}

namespace {

bool parseInt(const std::string& text, int& value) {
    if (text.empty()) return false;
    char* end = nullptr;
    const long parsed = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0') return false;
    value = int(parsed);
    return true;
}

}  // namespace

int parseQueryToken(const std::string& text, const TokenLayout& tokens) {
    auto require = [&](int index, const std::string& what) {
        if (index < 0) throw Error("query '" + text + "': this model has no " + what + " token");
        return index;
    };
    if (text == "cls") return require(tokens.firstOf(TokenKind::Cls), "CLS");
    if (text == "dist") return require(tokens.firstOf(TokenKind::Distillation), "distillation");
    if (text.rfind("reg", 0) == 0) {
        int ordinal = 0;
        if (!parseInt(text.substr(3), ordinal)) throw Error("query '" + text + "' is not reg<k>");
        const int first = require(tokens.firstOf(TokenKind::Register), "register");
        if (ordinal < 0 || ordinal >= tokens.count(TokenKind::Register)) {
            throw Error("query '" + text + "': the model has " + std::to_string(tokens.count(TokenKind::Register)) + " registers");
        }
        return first + ordinal;
    }
    if (const auto comma = text.find(','); comma != std::string::npos) {
        int row = 0, col = 0;
        if (!parseInt(text.substr(0, comma), row) || !parseInt(text.substr(comma + 1), col)) {
            throw Error("query '" + text + "' is not <row>,<col>");
        }
        return tokens.patchIndex(row, col);
    }
    int index = 0;
    if (!parseInt(text, index)) throw Error("query '" + text + "' is not cls, dist, reg<k>, <row>,<col> or a token index");
    if (index < 0 || index >= tokens.size()) {
        throw Error("query token " + text + " does not exist: the sequence has " + std::to_string(tokens.size()) + " tokens");
    }
    return index;
}

std::set<std::string> joinNames(std::set<std::string> a, const std::set<std::string>& b) {
    a.insert(b.begin(), b.end());
    return a;
}

int parseTargetClass(const std::string& text, const ModelSpec& spec) {
    if (text.empty()) return -1;
    for (std::size_t i = 0; i < spec.labels.size(); ++i) {
        if (spec.labels[i] == text) return int(i);
    }
    char* end = nullptr;
    const long index = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || index < 0 || index >= spec.numClasses) {
        throw Error("--target " + text, "is neither a class label nor an index below " + std::to_string(spec.numClasses));
    }
    return int(index);
}

}  // namespace fovea::cli
