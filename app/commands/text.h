// The text side of `fovea run` and `fovea dump`: language models (GPT-2, BERT) on token ids
// (--ids FILE.npy), BERT's segments and padding (--token-types, --attention-mask), CLIP on an
// image and a text, and what to do with text longer than the context (--overflow).
#pragma once

#include "app/cli_args.h"
#include "core/model/model.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace fovea::cli {

// Options `run` and `dump` accept for text inputs.
const std::set<std::string>& textOptionNames();
// True when the arguments give a text input (--ids or --text).
bool hasTextInput(const Args& args);
// The text input the arguments describe, checked and fitted to the model's context (notices of
// truncation are printed to stderr). Throws fovea::Error on bad input, UsageError on misuse.
TextInput textInputFromArgs(const Args& args, const ModelSpec& spec);

// TransformerLens's induction probes from --probe-repeat HALF [--probes N, default `probes`]
// [--seed S, default 1]: [start] + r + r with r HALF random tokens, one per seed S, S+1, ...;
// `start` is GPT-2's <|endoftext|> or BERT's [CLS] when the model has one. Each is refused when
// longer than the context. UsageError for a bad HALF or N; fovea::Error when the vocabulary
// size is unknown.
std::vector<TextInput> repeatedProbeInputs(const Args& args, const ModelSpec& spec, int probes);

// `fovea run MODEL --ids ... --out scores.npy|json` (language models) and
// `fovea run CLIP IMAGE --ids ... --out map.png|npy` (text prompt -> image heatmap).
int runTextRun(const Args& args, Model& model);
// `fovea dump MODEL [IMAGE] --ids ... --out all.npz`.
int runTextDump(const Args& args, Model& model);

}  // namespace fovea::cli
