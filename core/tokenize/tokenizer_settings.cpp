// What a model folder says about its tokenizer outside the vocabulary: the model type and
// context length (config.json, open_clip_config.json), special tokens and limits
// (tokenizer_config.json, special_tokens_map.json), and the post-processor templates of BERT and
// RoBERTa that the classic files imply.
#include "core/io/json_file.h"
#include "core/tokenize/tokenizer_loader.h"
#include "core/util/error.h"

#include <filesystem>

namespace fovea {

bool isRegularFile(const std::string& path) {
    std::error_code error;
    return std::filesystem::is_regular_file(path, error);
}

nlohmann::json readJsonIfPresent(const std::string& path) {
    return isRegularFile(path) ? readJsonFile(path) : nlohmann::json::object();
}

int readPositiveInt(const nlohmann::json& object, const char* key, const std::string& path, const std::string& prefix) {
    if (!object.is_object() || !object.contains(key) || object[key].is_null()) return 0;
    if (!object[key].is_number()) throw Error(path, prefix + key + " is not a number");
    const double value = object[key].get<double>();
    return value >= 1 && value < 1e9 ? int(value) : 0;
}

FolderSettings readFolderSettings(const std::string& folder) {
    FolderSettings settings;
    settings.folder = folder;
    const std::string configPath = folder + "/config.json";
    const nlohmann::json config = readJsonIfPresent(configPath);
    if (!config.is_object()) throw Error(configPath, "is not a JSON object");
    if (config.contains("model_type")) {
        if (!config["model_type"].is_string()) throw Error(configPath, "model_type is not a string");
        settings.modelType = config["model_type"].get<std::string>();
    }
    const std::string& type = settings.modelType;
    int context = 0;
    if (type == "clip") {
        const nlohmann::json text = config.value("text_config", nlohmann::json::object());
        context = readPositiveInt(text, "max_position_embeddings", configPath, "text_config.");
        if (context == 0) context = 77;  // CLIPTextConfig's default, which transformers omits when unchanged
    } else if (type == "gpt2") {
        context = readPositiveInt(config, "n_positions", configPath);
        if (context == 0) context = readPositiveInt(config, "n_ctx", configPath);
    } else {
        context = readPositiveInt(config, "max_position_embeddings", configPath);
        // RoBERTa's positions start after the padding index: 514 positions hold 512 tokens.
        if (context > 2 && (type == "roberta" || type == "xlm-roberta" || type == "camembert")) context -= 2;
    }
    if (context > 0) settings.contextSource = configPath;
    const std::string openClipPath = folder + "/open_clip_config.json";
    if (isRegularFile(openClipPath)) {
        const nlohmann::json openClip = readJsonFile(openClipPath);
        if (!openClip.is_object() || !openClip.value("model_cfg", nlohmann::json::object()).is_object()) {
            throw Error(openClipPath, "is not an object with model_cfg");
        }
        const nlohmann::json textConfig =
            openClip.value("model_cfg", nlohmann::json::object()).value("text_cfg", nlohmann::json::object());
        if (context == 0) {
            context = readPositiveInt(textConfig, "context_length", openClipPath, "model_cfg.text_cfg.");
            settings.contextSource = openClipPath;
        }
        if (type.empty()) settings.modelType = "clip";
    }
    settings.contextLength = context;
    settings.tokenizerConfig = readJsonIfPresent(folder + "/tokenizer_config.json");
    settings.specialTokensMap = readJsonIfPresent(folder + "/special_tokens_map.json");
    for (const auto& [json, name] : {std::pair{&settings.tokenizerConfig, "/tokenizer_config.json"},
                                     std::pair{&settings.specialTokensMap, "/special_tokens_map.json"}}) {
        if (!json->is_object()) throw Error(folder + name, "is not a JSON object");
    }
    return settings;
}

namespace {

// A special-token entry: "[CLS]", {"content": "[CLS]", ...}, or null (none).
std::string tokenContent(const nlohmann::json& value, const std::string& path, const std::string& key) {
    if (value.is_null()) return {};
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    throw Error(path, key + " is not a token string or {\"content\": ...}");
}

}  // namespace

void resolveSpecialTokens(TokenizerImpl& impl, const FolderSettings& settings, bool roberta) {
    SpecialTokens& s = impl.special;
    switch (impl.family) {
        case TokenizerFamily::WordPiece:
            s.unk = "[UNK]", s.cls = "[CLS]", s.sep = "[SEP]", s.pad = "[PAD]", s.mask = "[MASK]";
            break;
        case TokenizerFamily::ByteLevelBpe:
            if (roberta) {
                s.bos = s.cls = "<s>", s.eos = s.sep = "</s>", s.unk = "<unk>", s.pad = "<pad>", s.mask = "<mask>";
            } else {
                s.bos = s.eos = s.unk = "<|endoftext|>";
            }
            break;
        case TokenizerFamily::ClipBpe:
            s.bos = "<|startoftext|>", s.eos = s.unk = s.pad = "<|endoftext|>";
            break;
    }
    const std::pair<const nlohmann::json*, std::string> sources[] = {
        {&settings.specialTokensMap, settings.folder + "/special_tokens_map.json"},
        {&settings.tokenizerConfig, settings.folder + "/tokenizer_config.json"}};
    const std::pair<const char*, std::string*> keys[] = {{"unk_token", &s.unk},  {"cls_token", &s.cls},
                                                         {"sep_token", &s.sep},  {"pad_token", &s.pad},
                                                         {"mask_token", &s.mask}, {"bos_token", &s.bos},
                                                         {"eos_token", &s.eos}};
    for (const auto& [json, path] : sources) {
        for (const auto& [key, target] : keys) {
            if (json->contains(key)) *target = tokenContent((*json)[key], path, key);
        }
    }
    auto idOf = [&](std::string& token) {
        if (token.empty()) return -1;
        for (const AddedToken& added : impl.added) {
            if (added.content == token) return added.id;
        }
        const int id = impl.vocabulary->find(token);
        if (id < 0) token.clear();  // the tokenizer has no such token
        return id;
    };
    s.unkId = idOf(s.unk), s.clsId = idOf(s.cls), s.sepId = idOf(s.sep), s.padId = idOf(s.pad);
    s.maskId = idOf(s.mask), s.bosId = idOf(s.bos), s.eosId = idOf(s.eos);
}

void resolveMaxLength(TokenizerImpl& impl, const FolderSettings& settings, int fallback) {
    const int configured = readPositiveInt(settings.tokenizerConfig, "model_max_length",
                                           settings.folder + "/tokenizer_config.json");
    // transformers writes model_max_length 1e30 when a tokenizer has no limit of its own.
    if (configured > 0 && configured < 10000000) {
        impl.maxLength = configured;
    } else if (settings.contextLength > 0) {
        impl.maxLength = settings.contextLength;
    } else {
        impl.maxLength = fallback;
    }
}

PostTemplate bertTemplate(const std::string& cls, int clsId, const std::string& sep, int sepId) {
    PostTemplate post;
    post.single = {{-1, cls, clsId, 0}, {0, "", -1, 0}, {-1, sep, sepId, 0}};
    post.pair = {{-1, cls, clsId, 0}, {0, "", -1, 0}, {-1, sep, sepId, 0}, {1, "", -1, 1}, {-1, sep, sepId, 1}};
    return post;
}

PostTemplate robertaTemplate(const std::string& cls, int clsId, const std::string& sep, int sepId) {
    PostTemplate post;
    post.single = {{-1, cls, clsId, 0}, {0, "", -1, 0}, {-1, sep, sepId, 0}};
    // The Rust tokenizers library (what tokenizer.json means) gives the second part type 1;
    // RoBERTa models have a single token type, so callers should not feed these to one.
    post.pair = {{-1, cls, clsId, 0}, {0, "", -1, 0},   {-1, sep, sepId, 0},
                 {-1, sep, sepId, 1}, {1, "", -1, 1}, {-1, sep, sepId, 1}};
    return post;
}

}  // namespace fovea
