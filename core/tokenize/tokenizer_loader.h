// The loaders behind loadTokenizer: Hugging Face's tokenizer.json (tokenizer_json.cpp) and the
// classic vocabulary files (tokenizer_files.cpp), plus what both read from the model folder's
// config.json / tokenizer_config.json / special_tokens_map.json. Internal to core/tokenize.
//
//     FolderSettings settings = readFolderSettings("models/bert");
//     std::shared_ptr<TokenizerImpl> impl = readTokenizerJson("models/bert/tokenizer.json", settings);
#pragma once

#include "core/tokenize/tokenizer_impl.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace fovea {

struct FolderSettings {
    std::string folder;
    std::string modelType;         // config.json model_type ("bert", "gpt2", "roberta", "clip", ...); "" if none
    int contextLength = 0;         // the model's positions from config.json / open_clip_config.json; 0 if unknown
    std::string contextSource;     // where contextLength came from
    nlohmann::json tokenizerConfig = nlohmann::json::object();  // tokenizer_config.json, or {}
    nlohmann::json specialTokensMap = nlohmann::json::object(); // special_tokens_map.json, or {}
};

FolderSettings readFolderSettings(const std::string& folder);

std::shared_ptr<TokenizerImpl> readTokenizerJson(const std::string& path, const FolderSettings& settings);
// vocab.txt / vocab.json + merges.txt / CLIP's bpe_simple_vocab_16e6.txt(.gz); throws when none is there.
std::shared_ptr<TokenizerImpl> readClassicFiles(const FolderSettings& settings);

// Shared by both loaders.
bool isRegularFile(const std::string& path);
// The file's JSON, or an empty object when the file does not exist.
nlohmann::json readJsonIfPresent(const std::string& path);
// object[prefix + key] as a positive integer, 0 when absent, null or not positive (transformers
// writes 1e30 for "no limit"); a value that is not a number throws "<path>: <prefix><key> is not a number".
int readPositiveInt(const nlohmann::json& object, const char* key, const std::string& path,
                    const std::string& prefix = "");
// The family's usual special tokens, overridden by tokenizer_config.json / special_tokens_map.json
// (strings or {"content": ...} objects), with ids looked up in the vocabulary and added tokens.
void resolveSpecialTokens(TokenizerImpl& impl, const FolderSettings& settings, bool roberta);
// model_max_length from tokenizer_config.json when it is a real limit, else the folder's context.
void resolveMaxLength(TokenizerImpl& impl, const FolderSettings& settings, int fallback);
// [CLS] A [SEP] (B [SEP]) with type ids 0 / 1, or RoBERTa's <s> A </s> (</s> B </s>), all type 0.
PostTemplate bertTemplate(const std::string& cls, int clsId, const std::string& sep, int sepId);
PostTemplate robertaTemplate(const std::string& cls, int clsId, const std::string& sep, int sepId);

}  // namespace fovea
