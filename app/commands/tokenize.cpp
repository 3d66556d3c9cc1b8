// fovea tokenize MODEL_OR_FOLDER --text "..." [--text-pair "..."] [--max-length N]
//                [--overflow refuse|truncate] [--no-special] [--json] [--decode ID,ID,...]
// How a model's tokenizer splits a text: every token's id, what it reads as, and the bytes of
// the text it covers. The way to debug tokenisation before a model sees the ids.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace fovea::cli {

namespace {

// JSON text; invalid UTF-8 (which the tokenizer never puts in its strings) would become U+FFFD.
std::string dumpJson(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A token's text in quotes, with line breaks, tabs and other control characters visible; bytes
// that are not whole characters were already written as \xNN by the tokenizer.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '"') {
            out += "\\\"";
        } else if (byte < 0x20 || byte == 0x7F) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::vector<int64_t> parseIds(const std::string& text) {
    std::vector<int64_t> ids;
    std::stringstream stream(text);
    for (std::string item; std::getline(stream, item, ',');) {
        try {
            std::size_t used = 0;
            ids.push_back(std::stoll(item, &used));
            if (used != item.size()) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw UsageError{"--decode wants comma-separated token ids, not \"" + item + "\""};
        }
    }
    return ids;
}

nlohmann::json encodingJson(const Tokenizer& tokenizer, const Encoding& encoding) {
    nlohmann::json tokens = nlohmann::json::array();
    for (const EncodedToken& token : encoding.tokens) {
        tokens.push_back({{"id", token.id},
                          {"piece", token.piece},
                          {"display", token.display},
                          {"byte_begin", token.byteBegin},
                          {"byte_end", token.byteEnd},
                          {"special", token.special},
                          {"segment", token.segment},
                          {"type_id", token.typeId}});
    }
    return {{"tokenizer", tokenizer.describe()},
            {"family", tokenizerFamilyName(tokenizer.family())},
            {"ids", encoding.ids()},
            {"truncated", encoding.truncated},
            {"untruncated_length", encoding.untruncatedLength},
            {"max_length", encoding.maxLength},
            {"notice", encoding.truncationNotice()},
            {"tokens", tokens}};
}

void printTable(const Tokenizer& tokenizer, const Encoding& encoding) {
    std::printf("%s\n", tokenizer.describe().c_str());
    std::printf("%5s %8s %s %-11s %s\n", "pos", "id", encoding.isPair ? "seg type" : "", "bytes", "token");
    for (int i = 0; i < encoding.size(); ++i) {
        const EncodedToken& token = encoding.tokens[std::size_t(i)];
        const std::string span = token.byteBegin < 0 ? std::string("-") :
            std::to_string(token.byteBegin) + "-" + std::to_string(token.byteEnd);
        std::string line = quoted(token.display);
        if (token.special) line += "  special";
        if (token.piece != token.display) line += "  (vocabulary: " + quoted(token.piece) + ")";
        if (encoding.isPair) {
            std::printf("%5d %8d %3d %4d %-11s %s\n", i, token.id, token.segment, token.typeId, span.c_str(),
                        line.c_str());
        } else {
            std::printf("%5d %8d %-11s %s\n", i, token.id, span.c_str(), line.c_str());
        }
    }
    std::printf("%d tokens\n", encoding.size());
}

}  // namespace

int runTokenizeCommand(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames(runtimeOptionNames(), {"text", "text-pair", "max-length", "overflow", "decode"}),
                    {"json", "no-special"});
    const std::string path = args.positional(0, "MODEL_OR_FOLDER (with tokenizer.json or the vocabulary files)");
    const Tokenizer tokenizer = loadTokenizer(path);
    if (args.has("decode")) {
        const std::string text = tokenizer.decode(parseIds(args.value("decode")), args.has("no-special"));
        if (args.has("json")) {
            std::cout << dumpJson({{"text", text}}, 2) << "\n";
        } else {
            std::cout << text << "\n";
        }
        return 0;
    }
    if (!args.has("text")) throw UsageError{"missing --text \"...\" (or --decode IDS)"};
    const std::string overflow = args.value("overflow", "refuse");
    if (overflow != "refuse" && overflow != "truncate") throw UsageError{"--overflow must be refuse or truncate"};
    EncodeOptions options;
    options.maxLength = args.intValue("max-length", 0);
    if (options.maxLength < 0) throw UsageError{"--max-length must be positive (0: the model's context)"};
    options.truncate = overflow == "truncate";
    options.addSpecialTokens = !args.has("no-special");
    const Encoding encoding = args.has("text-pair")
                                  ? tokenizer.encodePair(args.value("text"), args.value("text-pair"), options)
                                  : tokenizer.encode(args.value("text"), options);
    if (encoding.truncated) std::fprintf(stderr, "notice: %s\n", encoding.truncationNotice().c_str());
    if (args.has("json")) {
        std::cout << dumpJson(encodingJson(tokenizer, encoding), 2) << "\n";
    } else {
        printTable(tokenizer, encoding);
    }
    return 0;
}

}  // namespace fovea::cli
