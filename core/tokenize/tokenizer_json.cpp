// Hugging Face's tokenizer.json (the "tokenizers" library's serialisation): the model (WordPiece
// or BPE with its vocab and merges), normalizer, pre_tokenizer, post_processor and added_tokens,
// read as far as BERT, GPT-2 / RoBERTa and CLIP use them. Anything else (SentencePiece's
// Metaspace, Unigram, byte fallback, custom split patterns) is refused with a message naming
// the field, never half-supported.
#include "core/io/json_file.h"
#include "core/tokenize/tokenizer_loader.h"
#include "core/util/error.h"

namespace fovea {

namespace {

using nlohmann::json;

// The pre-tokenisation patterns Fovea's scanners implement (pre_tokenize.h), as tokenizer.json
// spells them.
const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kClipPattern =
    R"(<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)";

class JsonReader {
public:
    explicit JsonReader(std::string path) : m_path(std::move(path)) {}

    [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
        throw Error(m_path, field + " " + problem);
    }
    const json& object(const json& parent, const char* key, const std::string& field) const {
        if (!parent.contains(key)) fail(field, "is missing");
        if (!parent[key].is_object()) fail(field, "is not an object");
        return parent[key];
    }
    std::string text(const json& parent, const char* key, const std::string& field, const std::string& fallback) const {
        if (!parent.contains(key) || parent[key].is_null()) return fallback;
        if (!parent[key].is_string()) fail(field, "is not a string");
        return parent[key].get<std::string>();
    }
    bool flag(const json& parent, const char* key, const std::string& field, bool fallback) const {
        if (!parent.contains(key) || parent[key].is_null()) return fallback;
        if (!parent[key].is_boolean()) fail(field, "is not true or false");
        return parent[key].get<bool>();
    }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

// Components of a normalizer / pre_tokenizer / post_processor, "Sequence"s flattened.
std::vector<json> flatten(const json& component, const char* listKey) {
    if (component.is_null()) return {};
    if (component.value("type", "") == "Sequence" && component.contains(listKey) && component[listKey].is_array()) {
        std::vector<json> parts;
        for (const json& part : component[listKey]) {
            for (json& inner : flatten(part, listKey)) parts.push_back(std::move(inner));
        }
        return parts;
    }
    return {component};
}

std::shared_ptr<Vocabulary> readVocabulary(const JsonReader& reader, const json& model) {
    if (!model.contains("vocab") || !model["vocab"].is_object()) {
        reader.fail("model.vocab", "is missing or not an object");
    }
    auto vocabulary = std::make_shared<Vocabulary>();
    for (const auto& [token, id] : model["vocab"].items()) {
        if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > 100000000) {
            reader.fail("model.vocab[\"" + printableText(token) + "\"]", "is not a non-negative integer id");
        }
        vocabulary->add(token, int(id.get<long long>()));
    }
    return vocabulary;
}

std::vector<AddedToken> readAddedTokens(const JsonReader& reader, const json& root) {
    std::vector<AddedToken> added;
    if (!root.contains("added_tokens") || root["added_tokens"].is_null()) return added;
    if (!root["added_tokens"].is_array()) reader.fail("added_tokens", "is not an array");
    for (std::size_t i = 0; i < root["added_tokens"].size(); ++i) {
        const json& entry = root["added_tokens"][i];
        const std::string field = "added_tokens[" + std::to_string(i) + "]";
        if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() ||
            !entry.contains("content") || !entry["content"].is_string()) {
            reader.fail(field, "needs an integer id and a content string");
        }
        added.push_back({entry["content"].get<std::string>(), entry["id"].get<int>(),
                         reader.flag(entry, "special", field + ".special", false),
                         reader.flag(entry, "lstrip", field + ".lstrip", false),
                         reader.flag(entry, "rstrip", field + ".rstrip", false)});
    }
    return added;
}

WordPieceOptions readWordPieceOptions(const JsonReader& reader, const json& root, const json& model) {
    WordPieceOptions options;
    options.lowerCase = false;
    options.stripAccents = 0;
    options.cleanText = false;
    options.splitCjk = false;
    for (const json& part : flatten(root.value("normalizer", json()), "normalizers")) {
        const std::string type = part.value("type", "");
        if (type == "BertNormalizer") {
            options.cleanText = reader.flag(part, "clean_text", "normalizer.clean_text", true);
            options.splitCjk = reader.flag(part, "handle_chinese_chars", "normalizer.handle_chinese_chars", true);
            options.lowerCase = reader.flag(part, "lowercase", "normalizer.lowercase", true);
            const bool unset = !part.contains("strip_accents") || part["strip_accents"].is_null();
            options.stripAccents =
                unset ? -1 : int(reader.flag(part, "strip_accents", "normalizer.strip_accents", false));
        } else if (type == "Lowercase") {
            options.lowerCase = true;
            if (options.stripAccents < 0) options.stripAccents = 0;
        } else if (type == "StripAccents") {
            options.stripAccents = 1;
        } else if (type != "NFD") {  // NFD only prepares StripAccents, which decomposes itself
            reader.fail("normalizer", "of type \"" + type + "\" is not supported with a WordPiece model");
        }
    }
    bool bertSplit = false;
    for (const json& part : flatten(root.value("pre_tokenizer", json()), "pretokenizers")) {
        if (part.value("type", "") != "BertPreTokenizer") {
            reader.fail("pre_tokenizer", "of type \"" + part.value("type", "") + "\" is not supported with a WordPiece "
                                         "model (BertPreTokenizer is)");
        }
        bertSplit = true;
    }
    if (!bertSplit) reader.fail("pre_tokenizer", "is missing (a WordPiece model needs BertPreTokenizer)");
    options.unknownToken = reader.text(model, "unk_token", "model.unk_token", "[UNK]");
    options.continuationPrefix =
        reader.text(model, "continuing_subword_prefix", "model.continuing_subword_prefix", "##");
    const int maxCharacters = readPositiveInt(model, "max_input_chars_per_word", reader.path(), "model.");
    if (maxCharacters > 0) options.maxCharactersPerWord = maxCharacters;
    return options;
}

std::vector<MergeRule> readMergeRules(const JsonReader& reader, const json& model) {
    if (!model.contains("merges")) reader.fail("model.merges", "is missing");
    if (!model["merges"].is_array()) reader.fail("model.merges", "is not an array");
    std::vector<MergeRule> merges;
    for (std::size_t i = 0; i < model["merges"].size(); ++i) {
        const json& entry = model["merges"][i];
        const std::string where = "model.merges[" + std::to_string(i) + "]";
        if (entry.is_string()) {
            const std::string text = entry.get<std::string>();
            const std::size_t space = text.find(' ');
            if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
                reader.fail(where, "\"" + printableText(text) + "\" is not two tokens separated by a space");
            }
            merges.push_back({text.substr(0, space), text.substr(space + 1), where});
        } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
            merges.push_back({entry[0].get<std::string>(), entry[1].get<std::string>(), where});
        } else {
            reader.fail(where, "is neither \"a b\" nor [\"a\", \"b\"]");
        }
    }
    return merges;
}

// BPE: CLIP when words end in "</w>", byte-level (GPT-2 / RoBERTa) when the pre-tokenizer is
// ByteLevel with GPT-2's pattern; anything else is a BPE Fovea does not implement.
BytePairOptions readBytePairOptions(const JsonReader& reader, const json& root, const json& model, bool& clip) {
    BytePairOptions options;
    options.endOfWordSuffix = reader.text(model, "end_of_word_suffix", "model.end_of_word_suffix", "");
    options.unknownToken = reader.text(model, "unk_token", "model.unk_token", "");
    if (!reader.text(model, "continuing_subword_prefix", "model.continuing_subword_prefix", "").empty()) {
        reader.fail("model.continuing_subword_prefix", "is set; Fovea's BPE does not use one");
    }
    if (reader.flag(model, "byte_fallback", "model.byte_fallback", false)) {
        reader.fail("model.byte_fallback", "is true (a SentencePiece-style BPE), which Fovea does not read");
    }
    clip = options.endOfWordSuffix == "</w>";
    options.clip = clip;
    if (!options.endOfWordSuffix.empty() && !clip) {
        reader.fail("model.end_of_word_suffix", "\"" + options.endOfWordSuffix + "\" is not CLIP's \"</w>\"");
    }
    bool byteLevel = false;
    bool splits = false;  // by ByteLevel's own regex or a Split step
    for (const json& part : flatten(root.value("pre_tokenizer", json()), "pretokenizers")) {
        const std::string type = part.value("type", "");
        if (type == "ByteLevel") {
            byteLevel = true;
            options.addPrefixSpace = reader.flag(part, "add_prefix_space", "pre_tokenizer.add_prefix_space", false);
            splits = splits || reader.flag(part, "use_regex", "pre_tokenizer.use_regex", true);
        } else if (type == "Split") {
            splits = true;
            const std::string pattern =
                part.contains("pattern") && part["pattern"].is_object() ? part["pattern"].value("Regex", "") : "";
            if (pattern != (clip ? kClipPattern : kGpt2Pattern)) {
                reader.fail("pre_tokenizer", "splits with the pattern \"" + printableText(pattern) +
                                                 "\", which is not " + (clip ? "CLIP's" : "GPT-2's"));
            }
        } else {
            reader.fail("pre_tokenizer", "of type \"" + type + "\" is not supported with a BPE model "
                                         "(Fovea reads byte-level BPE as GPT-2 and RoBERTa use it, and CLIP's BPE)");
        }
    }
    if (!byteLevel) reader.fail("pre_tokenizer", "has no ByteLevel step: not a GPT-2, RoBERTa or CLIP tokenizer");
    if (!splits) reader.fail("pre_tokenizer", "does not split words (ByteLevel use_regex false without a Split)");
    for (const json& part : flatten(root.value("normalizer", json()), "normalizers")) {
        const std::string type = part.value("type", "");
        // CLIP's normaliser is NFC, whitespace runs to one space, lower-case: the CLIP model does that.
        const bool clipStep = type == "NFC" || type == "Lowercase" || type == "Replace" || type == "Strip";
        if (!(clip && clipStep)) {
            reader.fail("normalizer", "of type \"" + type + "\" is not supported with this BPE model");
        }
    }
    return options;
}

std::pair<std::string, int> specialPair(const JsonReader& reader, const json& processor, const char* key) {
    const json& value = processor.value(key, json());
    if (!value.is_array() || value.size() != 2 || !value[0].is_string() || !value[1].is_number_integer()) {
        reader.fail(std::string("post_processor.") + key, "is not [\"token\", id]");
    }
    return {value[0].get<std::string>(), value[1].get<int>()};
}

std::vector<TemplateItem> readTemplate(const JsonReader& reader, const json& processor, const char* key) {
    const std::string field = std::string("post_processor.") + key;
    if (!processor.contains(key) || !processor[key].is_array()) reader.fail(field, "is missing or not an array");
    std::vector<TemplateItem> items;
    for (const json& entry : processor[key]) {
        if (entry.contains("Sequence")) {
            const std::string id = entry["Sequence"].value("id", "A");
            items.push_back({id == "B" ? 1 : 0, "", -1, entry["Sequence"].value("type_id", 0)});
        } else if (entry.contains("SpecialToken")) {
            const std::string name = entry["SpecialToken"].value("id", "");
            const json& special = processor.value("special_tokens", json::object()).value(name, json());
            if (!special.is_object() || !special.contains("ids") || !special["ids"].is_array()) {
                reader.fail("post_processor.special_tokens", "has no ids for \"" + printableText(name) + "\"");
            }
            const json tokens = special.value("tokens", json::array());
            for (std::size_t i = 0; i < special["ids"].size(); ++i) {
                const std::string token =
                    i < tokens.size() && tokens[i].is_string() ? tokens[i].get<std::string>() : name;
                items.push_back({-1, token, special["ids"][i].get<int>(), entry["SpecialToken"].value("type_id", 0)});
            }
        } else {
            reader.fail(field, "has an entry that is neither Sequence nor SpecialToken");
        }
    }
    return items;
}

PostTemplate readPostProcessor(const JsonReader& reader, const json& root) {
    PostTemplate post;
    for (const json& processor : flatten(root.value("post_processor", json()), "processors")) {
        const std::string type = processor.value("type", "");
        if (type == "ByteLevel") continue;  // offsets only
        if (type == "BertProcessing" || type == "RobertaProcessing") {
            const auto [cls, clsId] = specialPair(reader, processor, "cls");
            const auto [sep, sepId] = specialPair(reader, processor, "sep");
            post = type == "BertProcessing" ? bertTemplate(cls, clsId, sep, sepId)
                                            : robertaTemplate(cls, clsId, sep, sepId);
        } else if (type == "TemplateProcessing") {
            post.single = readTemplate(reader, processor, "single");
            post.pair = readTemplate(reader, processor, "pair");
        } else {
            reader.fail("post_processor", "of type \"" + type + "\" is not supported");
        }
    }
    return post;
}

std::shared_ptr<TokenizerImpl> readTokenizerRoot(const std::string& path, const json& root,
                                                 const FolderSettings& settings) {
    const JsonReader reader(path);
    if (!root.is_object()) throw Error(path, "is not a JSON object");
    const json& model = reader.object(root, "model", "model");
    std::string type = reader.text(model, "type", "model.type", "");
    if (type.empty()) type = model.contains("merges") ? "BPE" : model.contains("vocab") ? "WordPiece" : "";

    if (type != "WordPiece" && type != "BPE") {
        reader.fail("model.type", "\"" + type + "\" is not supported (Fovea reads WordPiece and BPE tokenizers)");
    }
    auto impl = std::make_shared<TokenizerImpl>();
    impl->source = path;
    impl->added = readAddedTokens(reader, root);
    auto vocabulary = readVocabulary(reader, model);
    impl->vocabulary = vocabulary;
    bool roberta = false;
    if (type == "WordPiece") {
        impl->family = TokenizerFamily::WordPiece;
        impl->model = makeWordPieceModel(vocabulary, readWordPieceOptions(reader, root, model));
    } else {
        bool clip = false;
        const BytePairOptions options = readBytePairOptions(reader, root, model, clip);
        impl->family = clip ? TokenizerFamily::ClipBpe : TokenizerFamily::ByteLevelBpe;
        impl->model = makeBytePairModel(vocabulary, readMergeRules(reader, model), options, path);
        roberta = !clip && root.value("post_processor", json()).is_object() &&
                  root["post_processor"].value("type", "") == "RobertaProcessing";
    }
    impl->post = readPostProcessor(reader, root);
    resolveSpecialTokens(*impl, settings, roberta);
    int fallback = impl->family == TokenizerFamily::ClipBpe ? 77 : 0;
    if (root.value("truncation", json()).is_object()) {
        fallback = readPositiveInt(root["truncation"], "max_length", path, "truncation.");
    }
    resolveMaxLength(*impl, settings, fallback);
    return impl;
}

}  // namespace

std::shared_ptr<TokenizerImpl> readTokenizerJson(const std::string& path, const FolderSettings& settings) {
    const json root = readJsonFile(path);
    try {
        return readTokenizerRoot(path, root, settings);
    } catch (const json::exception& error) {
        // A field of an unexpected JSON type deep inside a component.
        throw Error(path, jsonErrorText(error));
    }
}

}  // namespace fovea
