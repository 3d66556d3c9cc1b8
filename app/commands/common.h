// Pieces several subcommands share: runtime options from the command line, query-token parsing.
#pragma once

#include "app/cli_args.h"
#include "core/model/model_spec.h"
#include "core/model/runtime.h"
#include "core/model/token_info.h"

#include <set>
#include <string>

namespace fovea::cli {

// --device and --threads.
const std::set<std::string>& runtimeOptionNames();
RuntimeOptions runtimeFromArgs(const Args& args);
// --target: a class index or label; "" gives -1 (the top-1 class). Throws fovea::Error.
int parseTargetClass(const std::string& text, const ModelSpec& spec);
// "cls", "dist", "reg<k>", "<row>,<col>" (a patch) or a sequence index.
int parseQueryToken(const std::string& text, const TokenLayout& tokens);
std::set<std::string> joinNames(std::set<std::string> a, const std::set<std::string>& b);

}  // namespace fovea::cli
