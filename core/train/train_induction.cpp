#include "core/train/train_induction.h"

#include "core/data/token_sequences.h"
#include "core/explain/head_patterns.h"
#include "core/model/gpt2.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace fovea {

namespace {

using Clock = std::chrono::steady_clock;

double learningRateAt(const InductionTrainingOptions& options, int step) {
    if (step < options.warmupSteps) return options.learningRate * double(step + 1) / options.warmupSteps;
    return options.learningRate;
}

// One batch of sequences as [B, T] ids and the predictable-position mask.
std::pair<at::Tensor, at::Tensor> makeBatch(const InductionTrainingOptions& options, std::mt19937_64& random, int count) {
    std::vector<std::int64_t> ids, copied;
    const std::int64_t bos = options.vocab - 1;
    for (int b = 0; b < count; ++b) {
        const CopiedSpanSequence s = copiedSpanSequence(
            {options.context, options.vocab - 1, bos, options.minSpan, options.maxSpan, options.maxFresh, options.copyShare}, random);
        ids.insert(ids.end(), s.ids.begin(), s.ids.end());
        copied.insert(copied.end(), s.copied.begin(), s.copied.end());
    }
    return {at::tensor(ids, at::kLong).reshape({count, options.context}), at::tensor(copied, at::kLong).reshape({count, options.context})};
}

// The demo tokenizer: ids 0..253 are common English words (lower case) and ". ,", 254 is [UNK], 255 the
// BOS / <|endoftext|> that starts every sequence, so typed text such as "the cat sat on the mat
// the cat sat on the mat" runs through the model in the workbench. The model never saw text:
// the words only name its token ids.
constexpr const char* kDemoWords[] = {
    "the", "of", "and", "to", "in", "is", "was", "he", "for", "it", "with", "as", "his", "on", "be",
    "at", "by", "had", "are", "but", "from", "or", "have", "an", "they", "which", "one", "you",
    "were", "her", "all", "she", "there", "would", "their", "we", "him", "been", "has", "when",
    "who", "will", "more", "no", "if", "out", "so", "said", "what", "up", "its", "about", "into",
    "than", "them", "can", "only", "other", "new", "some", "could", "time", "these", "two", "may",
    "then", "do", "first", "any", "my", "now", "such", "like", "our", "over", "man", "me", "even",
    "most", "made", "after", "also", "did", "many", "before", "must", "through", "back", "years",
    "where", "much", "your", "way", "well", "down", "should", "because", "each", "just", "those",
    "people", "how", "too", "little", "state", "good", "very", "make", "world", "still", "own",
    "see", "men", "work", "long", "get", "here", "between", "both", "life", "being", "under",
    "never", "day", "same", "another", "know", "while", "last", "might", "us", "great", "old",
    "year", "off", "come", "since", "against", "go", "came", "right", "used", "take", "three",
    "states", "himself", "few", "house", "use", "during", "without", "again", "place", "american",
    "around", "however", "home", "small", "found", "thought", "went", "say", "part", "once",
    "general", "high", "upon", "school", "every", ",", "does", "got", "united", "left", "number",
    "course", "war", "until", "always", "away", "something", "fact", "though", "water", "less",
    "public", "put", "think", "almost", "hand", "enough", "far", "took", "head", "yet",
    "government", "system", "better", "set", "told", "nothing", "night", "end", "why", "called",
    ".", "find", "look", "asked", "going", "later", "knew", "point", "next", "cat", "dog",
    "bird", "fish", "tree", "river", "hill", "road", "city", "town", "door", "window", "table",
    "chair", "book", "paper", "light", "dark", "red", "blue", "green", "black", "white", "open",
    "close", "sun", "moon", "star", "rain", "snow", "wind", "fire", "stone", "bread", "milk",
    "apple", "garden", "mat", "sat", "ran",
};

nlohmann::json tokenizerJson(int vocab) {
    constexpr int words = int(sizeof kDemoWords / sizeof *kDemoWords);
    if (vocab != words + 2) {
        throw Error("induction-gpt", "the demo tokenizer has " + std::to_string(words) + " words, for a vocabulary of " +
                                         std::to_string(words + 2) + ", not " + std::to_string(vocab));
    }
    nlohmann::json table = nlohmann::json::object();
    for (int id = 0; id < words; ++id) table[kDemoWords[id]] = id;
    table["[UNK]"] = vocab - 2;
    table["<|endoftext|>"] = vocab - 1;
    const nlohmann::json bos = {{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}};
    const nlohmann::json text = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
    return {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens",
             {{{"id", vocab - 2}, {"content", "[UNK]"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
               {"normalized", false}, {"special", true}},
              {{"id", vocab - 1}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
               {"normalized", false}, {"special", true}}}},
            {"normalizer", {{"type", "Lowercase"}}},
            {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
            {"post_processor",
             {{"type", "TemplateProcessing"},
              {"single", {bos, text}},
              {"pair", {bos, text, {{"Sequence", {{"id", "B"}, {"type_id", 0}}}}}},
              {"special_tokens", {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {vocab - 1}}, {"tokens", {"<|endoftext|>"}}}}}}}},
            {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
            {"model",
             {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"}, {"max_input_chars_per_word", 100},
              {"vocab", table}}}};
}

nlohmann::json configJson(const ModelSpec& spec) {
    return {{"architectures", {"GPT2LMHeadModel"}},
            {"model_type", "gpt2"},
            {"vocab_size", spec.vocabSize},
            {"n_positions", spec.contextLength},
            {"n_embd", spec.embedDim},
            {"n_layer", spec.depth},
            {"n_head", spec.numHeads},
            {"n_inner", spec.mlpHidden},
            {"activation_function", "gelu_new"},
            {"layer_norm_epsilon", spec.layerNormEps},
            {"resid_pdrop", 0.0},
            {"embd_pdrop", 0.0},
            {"attn_pdrop", 0.0},
            {"tie_word_embeddings", true},
            {"bos_token_id", spec.vocabSize - 1},
            {"eos_token_id", spec.vocabSize - 1}};
}

std::string fixed(double value, int digits) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(digits) << value;
    return out.str();
}

void writeReport(const std::string& path, const nlohmann::json& report) {
    std::ofstream out(path);
    if (!out) throw Error(path, "cannot write the training report");
    const nlohmann::json& o = report["options"];
    const nlohmann::json& heads = report["heads"];
    out << "# induction-gpt: training report\n\n"
        << "Trained by `fovea train-demo induction-gpt` (LibTorch " << report["libtorch"].get<std::string>() << ", "
        << o["threads"].get<int>() << " CPU threads) in " << fixed(report["seconds"].get<double>(), 0) << " s.\n\n"
        << "- Model: GPT-2 (Hugging Face GPT2LMHeadModel layout), " << o["layers"].get<int>() << " layers, " << o["heads"].get<int>()
        << " heads, width " << o["width"].get<int>() << ", vocabulary " << o["vocab"].get<int>() << " (id " << o["vocab"].get<int>() - 1
        << " is BOS / <|endoftext|>), context " << o["context"].get<int>() << ".\n"
        << "- Data (`core/data/token_sequences`): BOS, then pieces that are either a run of 2.." << o["max_fresh"].get<int>()
        << " tokens not seen before in the sequence or (chance " << o["copy_share"].get<double>() << " per piece) a copy of "
        << o["min_span"].get<int>() << ".." << o["max_span"].get<int>()
        << " consecutive tokens of an earlier run. Next-token cross-entropy on the predictable positions only (inside a copy, after its first token).\n"
        << "- " << o["steps"].get<int>() << " steps x batch " << o["batch_size"].get<int>() << ", AdamW (lr " << o["learning_rate"].get<double>()
        << ", weight decay " << o["weight_decay"].get<double>() << ", betas 0.9 / 0.98, constant after a short warm-up), seed "
        << o["seed"].get<std::uint64_t>() << ".\n\n"
        << "| measure | value |\n|---|---|\n"
        << "| final training loss | " << fixed(report["final_loss"].get<double>(), 4) << " |\n"
        << "| top-1 accuracy on copied positions (" << report["held_out_sequences"].get<int>() << " held-out sequences) | "
        << fixed(report["copy_accuracy"].get<double>(), 4) << " |\n"
        << "| top-1 accuracy on fresh positions (not predictable) | "
        << fixed(report["random_accuracy"].get<double>(), 4) << " |\n\n"
        << "## Heads\n\nTransformerLens head-detector scores (`core/explain/head_patterns.h`), mean over "
        << heads["probes"].get<int>() << " fresh probes BOS + r + r (r: " << heads["half"].get<int>()
        << " random tokens, seeds from " << kInductionHeldOutSeed << "). \"mul\" is TransformerLens's Σ A⊙P / Σ A over all "
        << "query rows (an induction head can reach only about 1/2, since the first copy has no earlier occurrence); "
        << "\"rows\" averages over the query rows where the pattern is defined.\n\n"
        << "| layer | head | previous-token (mul) | previous-token (rows) | induction (mul) | induction (rows) | duplicate-token |\n"
        << "|---|---|---|---|---|---|---|\n";
    for (std::size_t l = 0; l < heads["previous_token"].size(); ++l) {
        for (std::size_t h = 0; h < heads["previous_token"][l].size(); ++h) {
            out << "| " << l << " | " << h << " | " << fixed(heads["previous_token"][l][h].get<double>(), 3) << " | "
                << fixed(heads["previous_token_pattern_rows"][l][h].get<double>(), 3) << " | "
                << fixed(heads["induction"][l][h].get<double>(), 3) << " | " << fixed(heads["induction_pattern_rows"][l][h].get<double>(), 3)
                << " | " << fixed(heads["duplicate_token"][l][h].get<double>(), 3) << " |\n";
        }
    }
    out << "\nBest previous-token head: layer " << report["best_previous_token"]["layer"].get<int>() << ", head "
        << report["best_previous_token"]["head"].get<int>() << " (" << fixed(report["best_previous_token"]["score"].get<double>(), 3)
        << "). Best induction head: layer " << report["best_induction"]["layer"].get<int>() << ", head "
        << report["best_induction"]["head"].get<int>() << " (" << fixed(report["best_induction"]["score"].get<double>(), 3) << ").\n";
}

}  // namespace

nlohmann::json probeInductionHeads(const std::string& modelPath, int count, int half, std::uint64_t seed) {
    const std::unique_ptr<Model> model = openModel(modelPath);
    const ModelSpec& spec = model->spec();
    const int layers = spec.depth, heads = spec.numHeads;
    std::vector<std::vector<double>> previous(layers, std::vector<double>(heads)), induction = previous, duplicate = previous,
                                                                                  previousRows = previous, inductionRows = previous;
    CaptureRequest request;
    request.precision = AttentionPrecision::Float32;
    for (int p = 0; p < count; ++p) {
        const std::vector<std::int64_t> ids = repeatedRandomSequence(half, spec.vocabSize, seed + std::uint64_t(p), spec.vocabSize - 1);
        const ModelOutputs out = model->runText(textInputFromIds(ids, spec), request);
        const HeadPatternScores s = scoreHeadPatterns(out.attention, ids);
        for (int l = 0; l < layers; ++l) {
            for (int h = 0; h < heads; ++h) {
                previous[l][h] += s.previousToken[l][h] / count;
                induction[l][h] += s.induction[l][h] / count;
                duplicate[l][h] += s.duplicateToken[l][h] / count;
                previousRows[l][h] += s.previousTokenRows[l][h] / count;
                inductionRows[l][h] += s.inductionRows[l][h] / count;
            }
        }
    }
    return {{"probes", count},          {"half", half},           {"previous_token", previous},
            {"induction", induction},   {"duplicate_token", duplicate}, {"previous_token_pattern_rows", previousRows},
            {"induction_pattern_rows", inductionRows}};
}

InductionTrainingReport trainInductionGpt(const InductionTrainingOptions& options, Progress& progress, std::ostream& log) {
    const auto start = Clock::now();
    if (options.threads > 0) at::set_num_threads(options.threads);
    ModelSpec spec = gpt2Spec(options.vocab, options.context, options.width, options.layers, options.heads);
    spec.architecture = "GPT2LMHeadModel";
    spec.specialTokens[options.vocab - 1] = "<|endoftext|>";
    Gpt2Weights initial = initializeGpt2Weights(spec, options.seed);
    Gpt2Model model(spec, std::move(initial), "cpu");
    std::vector<at::Tensor> parameters;
    for (auto& [name, tensor] : model.weights().namedTensors()) {
        tensor->requires_grad_(true);
        parameters.push_back(*tensor);
    }
    torch::optim::AdamW optimizer(
        parameters, torch::optim::AdamWOptions(options.learningRate).weight_decay(options.weightDecay).betas({0.9, 0.98}));
    std::mt19937_64 random(options.seed * 7919ULL + 17ULL);
    double smoothed = 0.0;
    for (int step = 0; step < options.steps; ++step) {
        for (auto& group : optimizer.param_groups()) {
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learningRateAt(options, step));
        }
        const auto [ids, copied] = makeBatch(options, random, options.batchSize);
        // Next-token loss on the predictable positions only (the rest are fresh tokens).
        const at::Tensor predictable = copied.narrow(1, 1, options.context - 1).to(at::kBool);
        const at::Tensor logits = model.logitsForIds(ids).narrow(1, 0, options.context - 1);
        const at::Tensor loss = at::cross_entropy_loss(logits.index({predictable}), ids.narrow(1, 1, options.context - 1).index({predictable}));
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        const double value = loss.item<double>();
        smoothed = step == 0 ? value : 0.98 * smoothed + 0.02 * value;
        if (step % 250 == 0 || step + 1 == options.steps) {
            log << "step " << step << "/" << options.steps << "  loss " << fixed(smoothed, 4) << "\n";
        }
        if (!progress.update(0.9 * double(step + 1) / options.steps, "training induction-gpt")) throw Cancelled();
    }
    for (at::Tensor& p : parameters) p.requires_grad_(false);

    // Held-out copy accuracy.
    std::mt19937_64 heldOut(kInductionHeldOutSeed);
    const auto [ids, copied] = makeBatch(options, heldOut, options.heldOutSequences);
    at::Tensor predicted;
    {
        torch::NoGradGuard noGrad;
        predicted = model.logitsForIds(ids).argmax(-1).narrow(1, 0, options.context - 1);
    }
    const at::Tensor targets = ids.narrow(1, 1, options.context - 1);
    const at::Tensor isCopied = copied.narrow(1, 1, options.context - 1).to(at::kBool);
    const at::Tensor correct = predicted.eq(targets);
    const double copyAccuracy = correct.masked_select(isCopied).to(at::kDouble).mean().item<double>();
    const double randomAccuracy = correct.masked_select(isCopied.logical_not()).to(at::kDouble).mean().item<double>();

    std::filesystem::create_directories(options.outputDir);
    const std::string weightsPath = options.outputDir + "/model.safetensors";
    model.saveSafetensors(weightsPath, {{"format", "pt"}, {"fovea", "induction-gpt"}});
    {
        std::ofstream config(options.outputDir + "/config.json");
        config << configJson(spec).dump(2) << "\n";
    }
    {
        std::ofstream tokenizer(options.outputDir + "/tokenizer.json");
        tokenizer << tokenizerJson(options.vocab).dump(2) << "\n";
        if (!tokenizer) throw Error(options.outputDir + "/tokenizer.json", "cannot write the tokenizer");
    }
    progress.update(0.95, "probing heads");
    const nlohmann::json heads = probeInductionHeads(options.outputDir, options.probeSequences, options.probeHalf, kInductionHeldOutSeed);

    InductionTrainingReport report;
    report.copyAccuracy = copyAccuracy;
    report.randomAccuracy = randomAccuracy;
    for (int l = 0; l < options.layers; ++l) {
        for (int h = 0; h < options.heads; ++h) {
            const float p = heads["previous_token"][l][h].get<float>(), i = heads["induction"][l][h].get<float>();
            if (p > report.bestPreviousToken) report.bestPreviousToken = p, report.previousLayer = l, report.previousHead = h;
            if (i > report.bestInduction) report.bestInduction = i, report.inductionLayer = l, report.inductionHead = h;
        }
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report.json = {{"model", "induction-gpt"},
                   {"libtorch", TORCH_VERSION},
                   {"seconds", report.seconds},
                   {"final_loss", smoothed},
                   {"held_out_sequences", options.heldOutSequences},
                   {"copy_accuracy", copyAccuracy},
                   {"random_accuracy", randomAccuracy},
                   {"heads", heads},
                   {"best_previous_token", {{"layer", report.previousLayer}, {"head", report.previousHead}, {"score", report.bestPreviousToken}}},
                   {"best_induction", {{"layer", report.inductionLayer}, {"head", report.inductionHead}, {"score", report.bestInduction}}},
                   {"options",
                    {{"seed", options.seed},
                     {"steps", options.steps},
                     {"batch_size", options.batchSize},
                     {"learning_rate", options.learningRate},
                     {"weight_decay", options.weightDecay},
                     {"warmup_steps", options.warmupSteps},
                     {"threads", at::get_num_threads()},
                     {"vocab", options.vocab},
                     {"context", options.context},
                     {"width", options.width},
                     {"layers", options.layers},
                     {"heads", options.heads},
                     {"min_span", options.minSpan},
                     {"max_span", options.maxSpan},
                     {"max_fresh", options.maxFresh},
                     {"copy_share", options.copyShare}}}};
    {
        std::ofstream out(options.outputDir + "/training_report.json");
        out << report.json.dump(2) << "\n";
    }
    writeReport(options.outputDir + "/REPORT.md", report.json);
    progress.update(1.0, "done");
    return report;
}

}  // namespace fovea
