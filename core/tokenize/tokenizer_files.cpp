// loadTokenizer and the classic tokenizer files: BERT's vocab.txt, GPT-2 / RoBERTa / CLIP's
// vocab.json + merges.txt, OpenAI CLIP's merges-only bpe_simple_vocab_16e6.txt(.gz), with the
// settings transformers keeps in tokenizer_config.json, special_tokens_map.json and config.json.
#include "core/io/json_file.h"
#include "core/tokenize/tokenizer_loader.h"
#include "core/tokenize/unicode_text.h"
#include "core/util/error.h"

#include <zlib.h>

#include <filesystem>
#include <sstream>

namespace fovea {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> readLines(const std::string& path, const std::string& content) {
    std::vector<std::string> lines;
    std::istringstream stream(content);
    for (std::string line; std::getline(stream, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
    }
    if (!isValidUtf8(content)) throw Error(path, "is not UTF-8 text");
    return lines;
}

std::string readGzipFile(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) throw Error(path, "cannot open");
    std::string content;
    char buffer[1 << 16];
    int count = 0;
    while ((count = gzread(file, buffer, sizeof buffer)) > 0) content.append(buffer, std::size_t(count));
    const bool failed = count < 0;
    gzclose(file);
    if (failed) throw Error(path, "is not a readable gzip file");
    return content;
}

// merges.txt: an optional "#version" line (or, skipFirstLine, any first line), then "first second"
// per line, at most `limit` of them.
std::vector<MergeRule> readMerges(const std::string& path, const std::string& content, std::size_t limit,
                                  bool skipFirstLine = false) {
    const std::vector<std::string> lines = readLines(path, content);
    std::vector<MergeRule> merges;
    for (std::size_t i = 0; i < lines.size() && merges.size() < limit; ++i) {
        const std::string& line = lines[i];
        if (i == 0 && (skipFirstLine || line.rfind("#version", 0) == 0)) continue;
        if (line.empty()) continue;
        const std::size_t space = line.find(' ');
        const std::string where = "line " + std::to_string(i + 1);
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
            throw Error(path, where + ": \"" + printableText(line) + "\" is not two tokens separated by a space");
        }
        merges.push_back({line.substr(0, space), line.substr(space + 1), where});
    }
    return merges;
}

std::shared_ptr<Vocabulary> readVocabularyJson(const std::string& path) {
    const nlohmann::json vocab = readJsonFile(path);
    if (!vocab.is_object() || vocab.empty()) throw Error(path, "is not an object of token -> id");
    auto vocabulary = std::make_shared<Vocabulary>();
    for (const auto& [token, id] : vocab.items()) {
        if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > 100000000) {
            throw Error(path, "token \"" + printableText(token) + "\" has id " + id.dump() +
                                  ", not a non-negative integer");
        }
        vocabulary->add(token, int(id.get<long long>()));
    }
    return vocabulary;
}

bool hasSuffixToken(const Vocabulary& vocabulary) {
    for (int id = 0; id < vocabulary.size(); ++id) {
        const std::string& token = vocabulary.token(id);
        if (token.size() > 4 && token.compare(token.size() - 4, 4, "</w>") == 0) return true;
    }
    return false;
}

// Tokens transformers never splits: the resolved special tokens, and (newer files) the
// added_tokens_decoder of tokenizer_config.json with its strip flags; added_tokens.json too.
void collectAddedTokens(TokenizerImpl& impl, const FolderSettings& settings) {
    auto add = [&](const std::string& content, int id, bool special, bool leftStrip, bool rightStrip) {
        if (content.empty() || id < 0) return;
        for (AddedToken& existing : impl.added) {
            if (existing.content == content) return;
        }
        impl.added.push_back({content, id, special, leftStrip, rightStrip});
    };
    const std::string configPath = settings.folder + "/tokenizer_config.json";
    const nlohmann::json& decoder = settings.tokenizerConfig.value("added_tokens_decoder", nlohmann::json::object());
    if (decoder.is_object()) {
        for (const auto& [idText, entry] : decoder.items()) {
            if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string()) {
                throw Error(configPath, "added_tokens_decoder." + idText + " has no content string");
            }
            int id = -1;
            try {
                id = std::stoi(idText);
            } catch (const std::exception&) {
                throw Error(configPath, "added_tokens_decoder key \"" + printableText(idText) + "\" is not an id");
            }
            add(entry["content"].get<std::string>(), id, entry.value("special", true), entry.value("lstrip", false),
                entry.value("rstrip", false));
        }
    }
    const SpecialTokens& s = impl.special;
    for (const auto& [content, id] : {std::pair{s.cls, s.clsId}, std::pair{s.sep, s.sepId}, std::pair{s.mask, s.maskId},
                                      std::pair{s.pad, s.padId}, std::pair{s.unk, s.unkId}, std::pair{s.bos, s.bosId},
                                      std::pair{s.eos, s.eosId}}) {
        add(content, id, true, false, false);
    }
    const std::string addedPath = settings.folder + "/added_tokens.json";
    if (isRegularFile(addedPath)) {
        const nlohmann::json added = readJsonFile(addedPath);
        if (!added.is_object()) throw Error(addedPath, "is not an object of token -> id");
        for (const auto& [content, id] : added.items()) {
            if (!id.is_number_integer()) throw Error(addedPath, "\"" + printableText(content) + "\" has no integer id");
            add(content, id.get<int>(), false, false, false);
        }
    }
}

std::shared_ptr<TokenizerImpl> readWordPieceFiles(const FolderSettings& settings, const std::string& vocabPath) {
    auto vocabulary = std::make_shared<Vocabulary>();
    const std::vector<std::string> lines = readLines(vocabPath, readFileContents(vocabPath));
    if (lines.empty()) throw Error(vocabPath, "is empty");
    for (std::size_t i = 0; i < lines.size(); ++i) vocabulary->add(lines[i], int(i));

    const nlohmann::json& config = settings.tokenizerConfig;
    const std::string configPath = settings.folder + "/tokenizer_config.json";
    auto flag = [&](const char* key, bool fallback) {
        if (!config.contains(key) || config[key].is_null()) return fallback;
        if (!config[key].is_boolean()) throw Error(configPath, std::string(key) + " is not true or false");
        return config[key].get<bool>();
    };
    WordPieceOptions options;
    options.lowerCase = flag("do_lower_case", true);
    options.splitCjk = flag("tokenize_chinese_chars", true);
    options.stripAccents = (!config.contains("strip_accents") || config["strip_accents"].is_null())
                               ? -1 : int(flag("strip_accents", false));

    auto impl = std::make_shared<TokenizerImpl>();
    impl->family = TokenizerFamily::WordPiece;
    impl->vocabulary = vocabulary;
    impl->source = vocabPath;
    resolveSpecialTokens(*impl, settings, false);
    options.unknownToken = impl->special.unk.empty() ? "[UNK]" : impl->special.unk;
    impl->model = makeWordPieceModel(vocabulary, options);
    if (impl->special.clsId < 0 || impl->special.sepId < 0) {
        throw Error(vocabPath, "has no " + std::string(impl->special.clsId < 0 ? "[CLS]" : "[SEP]") +
                                   " token for BERT's special tokens");
    }
    impl->post = bertTemplate(impl->special.cls, impl->special.clsId, impl->special.sep, impl->special.sepId);
    collectAddedTokens(*impl, settings);
    resolveMaxLength(*impl, settings, 0);
    return impl;
}

std::shared_ptr<TokenizerImpl> readBytePairFiles(const FolderSettings& settings,
                                                 const std::shared_ptr<Vocabulary>& vocabulary,
                                                 const std::vector<MergeRule>& merges, const std::string& mergesPath,
                                                 bool clip, const std::string& source) {
    auto impl = std::make_shared<TokenizerImpl>();
    impl->vocabulary = vocabulary;
    impl->source = source;
    const std::string& type = settings.modelType;
    const bool roberta = !clip && (type == "roberta" || type == "xlm-roberta" || type == "camembert" ||
                                   type == "longformer" || (type.empty() && vocabulary->find("<s>") >= 0 &&
                                                            vocabulary->find("</s>") >= 0));
    impl->family = clip ? TokenizerFamily::ClipBpe : TokenizerFamily::ByteLevelBpe;
    resolveSpecialTokens(*impl, settings, roberta);
    BytePairOptions options;
    options.clip = clip;
    options.endOfWordSuffix = clip ? "</w>" : "";
    options.unknownToken = impl->special.unk;
    const nlohmann::json& config = settings.tokenizerConfig;
    if (config.contains("add_prefix_space") && config["add_prefix_space"].is_boolean()) {
        options.addPrefixSpace = config["add_prefix_space"].get<bool>();
    }
    impl->model = makeBytePairModel(vocabulary, merges, options, mergesPath);
    const SpecialTokens& s = impl->special;
    if (clip && s.bosId >= 0 && s.eosId >= 0) impl->post = robertaTemplate(s.bos, s.bosId, s.eos, s.eosId);
    if (roberta && s.clsId >= 0 && s.sepId >= 0) impl->post = robertaTemplate(s.cls, s.clsId, s.sep, s.sepId);
    collectAddedTokens(*impl, settings);
    resolveMaxLength(*impl, settings, clip ? 77 : 0);
    return impl;
}

// OpenAI CLIP ships only the merges; its vocabulary is built from them (simple_tokenizer.py):
// the 256 byte characters, the same with "</w>", one token per merge, then the two specials.
std::shared_ptr<TokenizerImpl> readClipMergesOnly(const FolderSettings& settings, const std::string& path) {
    const bool gzip = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    const std::string content = gzip ? readGzipFile(path) : readFileContents(path);
    // open_clip's text_cfg.vocab_size fixes how many merges the model uses (CLIP's 49408 gives
    // 48894); simple_tokenizer.py skips the file's first line, a header.
    const std::string openClipPath = settings.folder + "/open_clip_config.json";
    const nlohmann::json textConfig = readJsonIfPresent(openClipPath)
                                          .value("model_cfg", nlohmann::json::object())
                                          .value("text_cfg", nlohmann::json::object());
    const int vocabSize = readPositiveInt(textConfig, "vocab_size", openClipPath, "model_cfg.text_cfg.");
    const std::size_t limit = vocabSize > 514 ? std::size_t(vocabSize - 514) : 49152 - 256 - 2;
    const std::vector<MergeRule> merges = readMerges(path, content, limit, true);
    auto vocabulary = std::make_shared<Vocabulary>();
    int id = 0;
    std::vector<std::string> bytes;
    for (char32_t c : byteToCharacter()) {
        std::string character;
        appendUtf8(character, c);
        bytes.push_back(character);
    }
    // simple_tokenizer.py lists the printable bytes in byte order first, then the remapped ones.
    std::vector<std::string> ordered;
    for (int byte = 0; byte < 256; ++byte) {
        if (byteToCharacter()[std::size_t(byte)] == char32_t(byte)) ordered.push_back(bytes[std::size_t(byte)]);
    }
    for (int byte = 0; byte < 256; ++byte) {
        if (byteToCharacter()[std::size_t(byte)] != char32_t(byte)) ordered.push_back(bytes[std::size_t(byte)]);
    }
    for (const std::string& character : ordered) vocabulary->add(character, id++);
    for (const std::string& character : ordered) vocabulary->add(character + "</w>", id++);
    for (const MergeRule& merge : merges) vocabulary->add(merge.first + merge.second, id++);
    vocabulary->add("<|startoftext|>", id++);
    vocabulary->add("<|endoftext|>", id++);
    return readBytePairFiles(settings, vocabulary, merges, path, true, path);
}

}  // namespace

std::shared_ptr<TokenizerImpl> readClassicFiles(const FolderSettings& settings) {
    const std::string& folder = settings.folder;
    if (isRegularFile(folder + "/vocab.txt")) return readWordPieceFiles(settings, folder + "/vocab.txt");
    const std::string vocabPath = folder + "/vocab.json";
    const std::string mergesPath = folder + "/merges.txt";
    if (isRegularFile(vocabPath)) {
        if (!isRegularFile(mergesPath)) throw Error(mergesPath, "is missing: vocab.json needs the merges beside it");
        auto vocabulary = readVocabularyJson(vocabPath);
        const std::vector<MergeRule> merges = readMerges(mergesPath, readFileContents(mergesPath), SIZE_MAX);
        const bool clip = settings.modelType.rfind("clip", 0) == 0 || hasSuffixToken(*vocabulary);
        return readBytePairFiles(settings, vocabulary, merges, mergesPath, clip, vocabPath + " + merges.txt");
    }
    for (const char* name : {"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt"}) {
        if (isRegularFile(folder + "/" + name)) return readClipMergesOnly(settings, folder + "/" + name);
    }
    if (isRegularFile(mergesPath) && settings.modelType.rfind("clip", 0) == 0) {
        return readClipMergesOnly(settings, mergesPath);
    }
    if (isRegularFile(mergesPath)) throw Error(vocabPath, "is missing: merges.txt needs the vocabulary beside it");
    throw Error(folder, "no tokenizer files (tokenizer.json, vocab.txt, vocab.json + merges.txt, or CLIP's "
                        "bpe_simple_vocab_16e6.txt.gz)");
}

Tokenizer loadTokenizer(const std::string& path) {
    std::error_code error;
    std::string folder = path;
    std::string tokenizerJson;
    if (fs::is_regular_file(path, error)) {
        const std::string extension = fs::path(path).extension().string();
        if (extension != ".json" && extension != ".safetensors") {
            throw Error(path, "is neither a tokenizer.json nor a model folder");
        }
        folder = fs::path(path).parent_path().string();
        if (folder.empty()) folder = ".";
        if (extension == ".json") tokenizerJson = path;
    } else if (!fs::is_directory(path, error)) {
        throw Error(path, "no such file or folder");
    }
    if (tokenizerJson.empty() && isRegularFile(folder + "/tokenizer.json")) tokenizerJson = folder + "/tokenizer.json";
    const FolderSettings settings = readFolderSettings(folder);
    return Tokenizer(tokenizerJson.empty() ? readClassicFiles(settings) : readTokenizerJson(tokenizerJson, settings));
}

bool hasTokenizerFiles(const std::string& folder) {
    for (const char* name : {"tokenizer.json", "vocab.txt", "vocab.json", "bpe_simple_vocab_16e6.txt.gz",
                             "bpe_simple_vocab_16e6.txt"}) {
        if (isRegularFile(folder + "/" + name)) return true;
    }
    return false;
}

}  // namespace fovea
