// fovea heads-importance: pruning-based head importance (mask one head at a time; change in
// accuracy, true-class confidence, KL) and Michel et al.'s gradient proxy over generated
// shapes-in-clutter scenes or given images, with an optional top-K vs random-K masking check.

#include "app/cli_args.h"
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/commands/text.h"
#include "app/console_progress.h"
#include "core/data/shapes_scene.h"
#include "core/heads/importance.h"
#include "core/heads/text_importance.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

namespace fovea::cli {

namespace {

// The held-out seeds `fovea eval` uses, apart from the demo model's training seeds.
constexpr std::uint64_t kFirstSceneSeed = 1000000000ULL + 500000;

std::vector<ImportanceSample> sceneSamples(int count, std::uint64_t firstSeed,
                                           const ModelSpec& spec) {
    SceneOptions options;
    options.size = spec.imageHeight;
    options.validate();
    std::vector<ImportanceSample> samples;
    for (int i = 0; i < count; ++i) {
        const std::uint64_t seed = firstSeed + std::uint64_t(i);
        const Scene scene = generateScene(seed, options);
        samples.push_back(
            {makeImageInput(scene.image, spec, "scene " + std::to_string(seed)), scene.label});
    }
    return samples;
}

std::string trimmed(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return {};
    return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// "file,label" rows (a class index or one of the model's label names); blank lines and lines
// starting with # are skipped, a first row "file,label" is a header. Keys: the path as given
// and its file name.
std::map<std::string, int> readLabels(const std::string& path, const ModelSpec& spec) {
    std::ifstream in(path);
    if (!in) throw Error(path, "cannot open the labels file");
    std::map<std::string, int> labels;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        line = trimmed(line);
        if (line.empty() || line[0] == '#') continue;
        const auto comma = line.rfind(',');
        if (comma == std::string::npos) {
            throw Error(path, "line " + std::to_string(number) + ": expected 'file,label'");
        }
        const std::string file = trimmed(line.substr(0, comma));
        const std::string label = trimmed(line.substr(comma + 1));
        if (number == 1 && file == "file" && label == "label") continue;
        int index = -1;
        try {
            index = parseTargetClass(label, spec);
        } catch (const Error&) {
            throw Error(path, "line " + std::to_string(number) + ": label '" +
                                  printableText(label) +
                                  "' is neither a class name of the model nor an index below " +
                                  std::to_string(spec.numClasses));
        }
        if (index < 0) throw Error(path, "line " + std::to_string(number) + ": empty label");
        labels[file] = index;
    }
    return labels;
}

std::vector<int> parseCounts(const std::string& text) {
    std::vector<int> counts;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char* end = nullptr;
        const long value = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value <= 0) {
            throw UsageError{"--mask-compare needs positive head counts like 1,3,6,12, got '" +
                             text + "'"};
        }
        counts.push_back(int(value));
    }
    if (counts.empty()) throw UsageError{"--mask-compare needs at least one head count"};
    return counts;
}

std::string comparisonMarkdown(const std::vector<MaskComparison>& rows, int draws) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(3);
    out << "| K | accuracy, top-K masked | accuracy, random K masked: mean +- sd (min .. max, "
        << draws << " draws) | top-K heads (layer.head) |\n|---:|---:|---|---|\n";
    for (const MaskComparison& c : rows) {
        out << "| " << c.count << " | " << c.topAccuracy << " | " << c.randomMean << " +- "
            << c.randomStd << " (" << c.randomMin << " .. " << c.randomMax << ") | ";
        for (std::size_t i = 0; i < c.topHeads.size(); ++i) {
            out << (i ? " " : "") << c.topHeads[i].first << '.' << c.topHeads[i].second;
        }
        out << " |\n";
    }
    return out.str();
}

// Text models (GPT-2): each head switched off in turn, next-token prediction scored on
// TransformerLens's repeated-sequence probes (the second copy, where an induction circuit is the
// only way to predict) or on every position of --ids / --text.
int runTextHeadsImportance(const Args& args) {
    if (args.positional().size() != 1) throw UsageError{"give MODEL and one text input (--text, --ids or --probe-repeat)"};
    for (const char* option : {"scenes", "labels", "mask-compare", "held-out", "first-seed"}) {
        if (args.has(option)) throw UsageError{std::string("--") + option + " is for image classifiers, not text inputs"};
    }
    const std::string outPath = args.value("out");
    if (outPath.empty()) throw UsageError{"--out FILE.csv is required"};
    ImportanceOrder order = ImportanceOrder::Accuracy;
    if (args.has("order")) {
        try {
            order = importanceOrderFromName(args.value("order"));
        } catch (const Error&) {
            throw UsageError{"--order must be accuracy, confidence or kl"};
        }
        if (order == ImportanceOrder::GradientProxy) throw UsageError{"--order gradient is not available for text models"};
    }
    const int top = args.intValue("top", 10);
    const std::string modelPath = args.positional(0, "MODEL");
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    if (!model->accepts(InputKind::Text)) throw Error(modelPath, spec.architecture + " takes images: give INPUTS or --scenes N");
    std::vector<TextImportanceSample> samples;
    std::string description;
    if (args.has("probe-repeat")) {
        const int half = args.intValue("probe-repeat", 20);
        for (TextInput& input : repeatedProbeInputs(args, spec, 8)) {
            // The second copy after its first token: ids[t + 1] repeats the token after ids[t]'s first occurrence.
            TextImportanceSample sample{std::move(input), {}};
            const int size = sample.input.size();
            for (int t = size - half; t + 1 < size; ++t) sample.scored.push_back(t);
            samples.push_back(std::move(sample));
        }
        description = std::to_string(samples.size()) + " probes of " + std::to_string(half) + " random tokens repeated (seeds " +
                      std::to_string(args.intValue("seed", 1)) + " on), scored on the second copy";
    } else {
        samples.push_back({textInputFromArgs(args, spec), {}});
        description = "one text of " + std::to_string(samples.front().input.size()) + " tokens, every next token scored";
    }
    ConsoleProgress progress;
    const HeadImportanceReport report = computeTextHeadImportance(*model, samples, order, progress);
    writeFileAtomically(outPath, [&](std::ostream& out) { out << headImportanceCsv(report); });
    std::ostringstream summary;
    summary << std::fixed << std::setprecision(3);
    summary << "# Head importance: " << std::filesystem::path(modelPath).filename().string() << "\n\n";
    summary << "Inputs: " << description << ". " << spec.depth << " layers x " << spec.numHeads << " heads; ranked by "
            << importanceOrderName(report.order) << ".\n\n";
    summary << "Unmasked next-token accuracy " << report.baseAccuracy << ", mean probability of the true next token "
            << report.baseConfidence << ".\n\n";
    summary << "Time: " << report.maskingSeconds << " s for " << report.heads.size() << " masked heads x " << report.inputs
            << " inputs (full passes).\n\n";
    summary << "Top " << std::min<int>(top, int(report.heads.size())) << " heads:\n\n" << headImportanceMarkdown(report, top);
    std::cout << summary.str();
    if (args.has("markdown")) writeFileAtomically(args.value("markdown"), [&](std::ostream& out) { out << summary.str(); });
    std::cerr << "wrote " << outPath << "\n";
    return 0;
}

}  // namespace

int runHeadsImportanceCommand(const Arguments& arguments) {
    const Args args(arguments,
                    joinNames(joinNames({"scenes", "first-seed", "out", "labels", "order", "batch",
                                         "mask-compare", "draws", "seed", "top", "markdown",
                                         "probe-repeat", "probes"},
                                        runtimeOptionNames()),
                              textOptionNames()),
                    {"no-gradient", "held-out"});
    if (hasTextInput(args) || args.has("probe-repeat")) return runTextHeadsImportance(args);
    const bool scenes = args.has("scenes");
    if (!args.has("out")) throw UsageError{"--out FILE.csv is required"};
    const std::string outPath = args.value("out");
    if (outPath.empty()) throw UsageError{"--out needs a file name"};
    std::string modelPath;
    std::vector<std::string> inputs;
    if (scenes) {
        if (args.positional().size() > 1)
            throw UsageError{"--scenes generates the inputs; give only MODEL"};
        modelPath = args.positional().empty() ? findDemoModel() : args.positional(0, "MODEL");
        if (args.has("labels"))
            throw UsageError{"--labels is for given images; scenes carry their own labels"};
    } else if (args.has("held-out")) {
        throw UsageError{"--held-out compares on fresh generated scenes; it needs --scenes N"};
    } else {
        if (args.positional().size() < 2)
            throw UsageError{"give MODEL and INPUTS..., or --scenes N"};
        modelPath = args.positional(0, "MODEL");
        inputs.assign(args.positional().begin() + 1, args.positional().end());
    }
    const int sceneCount = args.intValue("scenes", 0);
    if (scenes && sceneCount <= 0) throw UsageError{"--scenes must be positive"};
    HeadImportanceOptions options;
    options.batchSize = args.intValue("batch", options.batchSize);
    if (options.batchSize <= 0) throw UsageError{"--batch must be positive"};
    options.gradientProxy = !args.has("no-gradient");
    if (args.has("order")) {
        try {
            options.order = importanceOrderFromName(args.value("order"));
        } catch (const Error&) {
            throw UsageError{"--order must be accuracy, confidence, kl or gradient"};
        }
        if (options.order == ImportanceOrder::GradientProxy && !options.gradientProxy) {
            throw UsageError{"--order gradient needs the gradient proxy (drop --no-gradient)"};
        }
    }
    const std::vector<int> counts =
        args.has("mask-compare") ? parseCounts(args.value("mask-compare")) : std::vector<int>{};
    MaskComparisonOptions comparisonOptions;
    comparisonOptions.randomDraws = args.intValue("draws", comparisonOptions.randomDraws);
    comparisonOptions.seed = std::uint64_t(args.intValue("seed", 1));
    comparisonOptions.batchSize = options.batchSize;
    if (comparisonOptions.randomDraws <= 0) throw UsageError{"--draws must be positive"};
    const int top = args.intValue("top", 10);
    const int firstSeedValue = args.intValue("first-seed", -1);
    const std::uint64_t firstSeed =
        firstSeedValue >= 0 ? std::uint64_t(firstSeedValue) : kFirstSceneSeed;

    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    for (const int k : counts) {
        if (k > spec.depth * spec.numHeads) {
            throw UsageError{"--mask-compare " + std::to_string(k) + " is more than the model's " +
                             std::to_string(spec.depth * spec.numHeads) + " heads"};
        }
    }
    std::vector<ImportanceSample> samples;
    std::string description;
    if (scenes) {
        samples = sceneSamples(sceneCount, firstSeed, spec);
        description = std::to_string(sceneCount) + " shapes-in-clutter scenes (seeds " +
                      std::to_string(firstSeed) + " on)";
    } else {
        const std::map<std::string, int> labels = args.has("labels")
                                                      ? readLabels(args.value("labels"), spec)
                                                      : std::map<std::string, int>{};
        int labelled = 0;
        for (const std::string& path : inputs) {
            ImportanceSample sample{loadImageInput(path, spec), -1};
            auto found = labels.find(path);
            if (found == labels.end())
                found = labels.find(std::filesystem::path(path).filename().string());
            if (found != labels.end()) {
                sample.label = found->second;
                ++labelled;
            }
            samples.push_back(std::move(sample));
        }
        description = std::to_string(inputs.size()) + " input(s), " + std::to_string(labelled) +
                      " with a label";
        if (labelled < int(inputs.size()))
            description += " (the others count the unmasked prediction as their label)";
    }

    ConsoleProgress progress;
    const HeadImportanceReport report = computeHeadImportance(*model, samples, options, progress);
    writeFileAtomically(outPath, [&](std::ostream& out) { out << headImportanceCsv(report); });

    std::ostringstream summary;
    summary << std::fixed << std::setprecision(3);
    summary << "# Head importance: " << std::filesystem::path(modelPath).filename().string()
            << "\n\n";
    summary << "Inputs: " << description << ". " << spec.depth << " layers x " << spec.numHeads
            << " heads; ranked by " << importanceOrderName(report.order) << ".\n\n";
    summary << "Unmasked accuracy " << report.baseAccuracy << ", mean true-class confidence "
            << report.baseConfidence << ".\n\n";
    summary << "Time: " << report.cacheSeconds << " s unmasked passes (filling the cache), "
            << report.maskingSeconds << " s for " << report.heads.size() << " masked heads x "
            << report.inputs << " inputs, " << report.gradientSeconds
            << " s gradient proxy. Masked passes ran " << report.blocksRun
            << " blocks; without the cache " << report.blocksWithoutCache << ".\n\n";
    summary << "Top " << std::min<int>(top, int(report.heads.size())) << " heads:\n\n"
            << headImportanceMarkdown(report, top);
    if (!counts.empty()) {
        std::vector<MaskComparison> rows;
        // --held-out: the comparison runs on as many fresh scenes (the next seeds), so the ranking
        // is not scored on the inputs it was made from.
        const bool heldOut = args.has("held-out");
        const std::vector<ImportanceSample> compared =
            heldOut ? sceneSamples(sceneCount, firstSeed + std::uint64_t(sceneCount), spec)
                    : std::vector<ImportanceSample>{};
        const std::vector<ImportanceSample>& on = heldOut ? compared : samples;
        for (const int k : counts)
            rows.push_back(compareMasking(*model, on, report, k, comparisonOptions, progress));
        summary << "\nMasking the top-K heads together vs K random heads (unmasked accuracy "
                << rows.front().baseAccuracy
                << (heldOut ? ", on " + std::to_string(sceneCount) + " held-out scenes (seeds " +
                                  std::to_string(firstSeed + std::uint64_t(sceneCount)) + " on)"
                            : std::string(", on the same inputs"))
                << "):\n\n"
                << comparisonMarkdown(rows, comparisonOptions.randomDraws);
    }
    std::cout << summary.str();
    if (args.has("markdown")) {
        writeFileAtomically(args.value("markdown"),
                            [&](std::ostream& out) { out << summary.str(); });
    }
    std::cerr << "wrote " << outPath << "\n";
    return 0;
}

}  // namespace fovea::cli
