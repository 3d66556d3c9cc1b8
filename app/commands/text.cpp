#include "app/commands/text.h"

#include "core/explain/head_patterns.h"

#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/explain/clip_relevance.h"
#include "core/explain/head_patterns.h"
#include "core/explain/text_explain.h"
#include "core/image/figure.h"
#include "core/io/image_io.h"
#include "core/io/npy.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fovea::cli {

namespace {

std::string lowerExtension(const std::string& path) {
    std::string extension = std::filesystem::path(path).extension().string();
    for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
    return extension;
}

std::vector<std::int64_t> readIdsLike(const std::string& path, std::size_t expected,
                                      const char* what) {
    const NpyArray array = readNpy(path);
    if (array.dtype != "<i8" && array.dtype != "<i4")
        throw Error(path, std::string(what) + " have dtype " + array.dtype + "; expected int64");
    std::vector<std::int64_t> values = array.toInt64s();
    if (values.size() != expected) {
        throw Error(path, std::string(what) + " hold " + std::to_string(values.size()) +
                              " values for " + std::to_string(expected) + " tokens");
    }
    return values;
}

void printTokens(const TokenLayout& tokens, const std::vector<float>& scores) {
    for (int i = 0; i < tokens.size(); ++i) {
        std::printf("  %3d  %-20s %10.5f\n", i, tokens[i].label().c_str(),
                    double(scores[std::size_t(i)]));
    }
}

void writeTokenScores(const std::string& path, const TokenLayout& tokens,
                      const std::vector<float>& scores, nlohmann::json facts) {
    if (lowerExtension(path) == ".npy") {
        writeNpy(path, NpyArray::fromFloats({int64_t(scores.size())}, scores));
        return;
    }
    facts["tokens"] = tokens.toJson()["tokens"];
    facts["scores"] = scores;
    std::ofstream out(path);
    if (!out) throw Error(path, "cannot write");
    out << facts.dump(2) << "\n";
}

}  // namespace

const std::set<std::string>& textOptionNames() {
    static const std::set<std::string> names = {
        "ids", "text", "text-pair", "token-types", "attention-mask", "overflow", "position"};
    return names;
}

bool hasTextInput(const Args& args) {
    return args.has("ids") || args.has("text");
}

TextInput textInputFromArgs(const Args& args, const ModelSpec& spec) {
    const std::string overflowText = args.value("overflow", "refuse");
    if (overflowText != "refuse" && overflowText != "truncate")
        throw UsageError{"--overflow must be refuse or truncate"};
    const ContextOverflow overflow =
        overflowText == "truncate" ? ContextOverflow::Truncate : ContextOverflow::Refuse;
    if (args.has("text-pair") && !args.has("text"))
        throw UsageError{"--text-pair needs --text (the first text of the pair)"};
    if (args.has("text")) {
        if (args.has("ids")) throw UsageError{"give either --text or --ids, not both"};
        const Tokenizer tokenizer = loadModelTokenizer(spec);
        TextInput input = textInputFromText(tokenizer, args.value("text"), args.value("text-pair"),
                                            spec, overflow);
        if (args.has("attention-mask"))
            input.attentionMask = readIdsLike(args.value("attention-mask"), input.ids.size(),
                                              "attention mask values");
        fitTextInput(input, spec, overflow);
        for (const std::string& notice : input.notices)
            std::fprintf(stderr, "notice: %s\n", notice.c_str());
        return input;
    }
    if (!args.has("ids"))
        throw UsageError{
            "missing --text \"...\" or --ids FILE.npy (int64 token ids, [T] or [1,T])"};
    TextInput input = loadTokenIds(args.value("ids"), spec);
    if (args.has("token-types"))
        input.tokenTypes = readIdsLike(args.value("token-types"), input.ids.size(), "token types");
    if (args.has("attention-mask"))
        input.attentionMask =
            readIdsLike(args.value("attention-mask"), input.ids.size(), "attention mask values");
    fitTextInput(input, spec, overflow);
    for (const std::string& notice : input.notices)
        std::fprintf(stderr, "notice: %s\n", notice.c_str());
    return input;
}

int runTextRun(const Args& args, Model& model) {
    const ModelSpec& spec = model.spec();
    const std::string outPath = args.value("out");
    if (outPath.empty()) throw UsageError{"missing --out FILE"};
    const std::string extension = lowerExtension(outPath);
    const TextInput text = textInputFromArgs(args, spec);
    ExplainParams given;
    for (const std::string& item : args.values("param")) {
        const auto [name, value] = parseExplainerParam(item);
        given[name] = value;
    }

    if (spec.modality == "image-text") {
        if (extension != ".png" && extension != ".npy")
            throw UsageError{"--out must end in .png or .npy (the image heatmap)"};
        const ImageInput image =
            loadImageInput(args.positional(1, "IMAGE (CLIP explains an image and a text)"), spec);
        ClipRelevanceOptions options;
        options.method = args.value("method", "chefer");
        options.excludeMagnets = args.has("exclude-magnets");
        const ClipRelevance r = explainImageText(model, image, text, options);
        std::printf("similarity %.5f (logit_scale x cosine)%s\n", double(r.similarityAsGiven),
                    options.excludeMagnets ? "" : "");
        if (options.excludeMagnets) {
            std::printf("similarity without %zu attention-magnet tokens %.5f\n", r.excluded.size(),
                        double(r.similarity));
        }
        std::printf("relevance of each text token for the image (%s):\n", options.method.c_str());
        printTokens(r.textTokens, r.tokenRelevance);
        if (extension == ".npy") {
            writeNpy(outPath, NpyArray::fromFloats({r.imageMap.rows, r.imageMap.cols},
                                                   std::vector<float>(r.imageMap.begin<float>(),
                                                                      r.imageMap.end<float>())));
        } else {
            FigureOptions figure;
            figure.colormap = args.value("colormap", "viridis");
            figure.opacity = float(args.doubleValue("opacity", 0.5));
            figure.smooth = args.has("smooth");
            figure.title =
                std::string(options.method == "chefer" ? "Chefer relevance" : "Grad-CAM") +
                " for the text; similarity " + std::to_string(r.similarityAsGiven).substr(0, 6);
            writeImage(outPath, renderHeatmapFigure(image.view, r.imageMap, figure));
        }
        std::cout << "wrote " << outPath << " (" << r.imageMap.rows << "x" << r.imageMap.cols
                  << " map)\n";
        return 0;
    }

    if (extension != ".npy" && extension != ".json")
        throw UsageError{"--out must end in .npy or .json (one score per token)"};
    const std::string method = args.value("method", "rollout");
    for (const char* option : {"layer", "head", "query", "discard"}) {
        if (args.has(option)) given[option] = args.doubleValue(option, 0.0);
    }
    int target = -1;
    if (args.has("target"))
        target = spec.numClasses > 0 ? parseTargetClass(args.value("target"), spec)
                                     : args.intValue("target", -1);
    ConsoleProgress progress;
    const TextExplanation e =
        explainTokens(model, text, method, given, target, args.intValue("position", -1), &progress);
    if (spec.numClasses > 0) {
        std::printf("explained class %s (%d)\n", spec.labelOf(e.target).c_str(), e.target);
    } else {
        std::printf("explained token %d at position %d\n", e.target, e.position);
    }
    for (const auto& [key, value] : e.notes) std::cout << key << ": " << value << '\n';
    printTokens(e.tokens, e.scores);
    nlohmann::json facts = {
        {"method", method}, {"target", e.target}, {"position", e.position}, {"query", e.query}};
    for (const auto& [key, value] : e.notes) facts["notes"][key] = value;
    writeTokenScores(outPath, e.tokens, e.scores, facts);
    std::cout << "wrote " << outPath << " (" << e.scores.size() << " token scores)\n";
    return 0;
}

int runTextDump(const Args& args, Model& model) {
    const ModelSpec& spec = model.spec();
    const std::string outPath = args.value("out");
    const TextInput text = textInputFromArgs(args, spec);
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    if (args.has("layer")) request.layers = {args.intValue("layer", 0)};
    ModelOutputs out;
    const bool withImage = spec.modality == "image-text" && args.positional().size() > 1;
    if (withImage) {
        out = model.runImageText(loadImageInput(args.positional(1, "IMAGE"), spec), text, request);
    } else {
        out = model.runText(text, request);
    }
    std::vector<std::pair<std::string, NpyArray>> arrays;
    arrays.emplace_back("input_ids", NpyArray::fromInt64s({1, int64_t(text.ids.size())}, text.ids));
    arrays.emplace_back("logits",
                        NpyArray::fromFloats({1, int64_t(out.logits.size())}, out.logits));
    if (!out.positionLogits.empty()) {
        arrays.emplace_back("position_logits",
                            NpyArray::fromFloats(
                                {out.positions, int64_t(out.positionLogits.size()) / out.positions},
                                out.positionLogits));
    }
    if (!out.lastHiddenState.empty()) {
        arrays.emplace_back(
            "last_hidden_state",
            NpyArray::fromFloats(
                {int64_t(out.lastHiddenState.size()) / out.hiddenWidth, out.hiddenWidth},
                out.lastHiddenState));
    }
    auto addStack = [&](const AttentionStack& stack, const std::string& prefix,
                        const std::string& tokensName) {
        for (const AttentionLayer& layer : stack.layers) {
            arrays.emplace_back(
                prefix + std::to_string(layer.layer),
                NpyArray::fromFloats({int64_t(layer.heads.size()), layer.tokens, layer.tokens},
                                     layer.allValues()));
        }
        nlohmann::json tokens = stack.tokens.toJson();
        tokens["causal"] = stack.causal;
        if (!stack.keyMask.empty()) tokens["key_mask"] = stack.keyMask;
        arrays.emplace_back(tokensName, NpyArray::fromString(tokens.dump()));
    };
    if (spec.modality == "image-text") {
        if (withImage) addStack(out.attention, "attention_", "tokens");
        addStack(out.textAttention, "text_attention_", "text_tokens");
        if (!out.imageEmbeds.empty())
            arrays.emplace_back(
                "image_embeds",
                NpyArray::fromFloats({1, int64_t(out.imageEmbeds.size())}, out.imageEmbeds));
        arrays.emplace_back("text_embeds", NpyArray::fromFloats({1, int64_t(out.textEmbeds.size())},
                                                                out.textEmbeds));
        if (out.hasSimilarity)
            arrays.emplace_back("logits_per_image", NpyArray::fromFloats({1, 1}, {out.similarity}));
    } else {
        addStack(out.attention, "attention_", "tokens");
    }
    writeNpz(outPath, arrays);
    if (out.hasSimilarity) std::printf("similarity %.5f\n", double(out.similarity));
    if (spec.numClasses > 0) {
        for (const auto& [index, probability] : out.topClasses(3)) {
            std::printf("  %-16s %6.2f%%  (class %d)\n", spec.labelOf(index).c_str(),
                        probability * 100.0, index);
        }
    } else if (spec.task == "causal-lm") {
        std::printf("next token after position %d:\n", text.lastRealPosition());
        for (const auto& [index, probability] : out.topClasses(3))
            std::printf("  id %-6d %6.2f%%\n", index, probability * 100.0);
    }
    std::cout << "wrote " << outPath << " (" << arrays.size() << " arrays)\n";
    return 0;
}

std::vector<TextInput> repeatedProbeInputs(const Args& args, const ModelSpec& spec, int probes) {
    const int half = args.intValue("probe-repeat", 20);
    probes = args.intValue("probes", probes);
    if (half < 2 || probes < 1) throw UsageError{"--probe-repeat needs at least 2 tokens and --probes at least 1"};
    if (spec.vocabSize < 2) throw Error(spec.sourcePath, "the model's vocabulary size is unknown; pass --ids instead");
    std::int64_t start = -1;
    for (const auto& [id, name] : spec.specialTokens) {
        if (name == "<|endoftext|>" || name == "[CLS]" || name == "<|startoftext|>") {
            start = id;
            break;
        }
    }
    std::vector<TextInput> inputs;
    for (int p = 0; p < probes; ++p) {
        const std::uint64_t seed = std::uint64_t(args.intValue("seed", 1)) + std::uint64_t(p);
        TextInput text = textInputFromIds(repeatedRandomSequence(half, spec.vocabSize, seed, start), spec, "probe " + std::to_string(seed));
        fitTextInput(text, spec, ContextOverflow::Refuse);
        inputs.push_back(std::move(text));
    }
    return inputs;
}

}  // namespace fovea::cli
