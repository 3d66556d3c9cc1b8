// fovea eval: explanation methods scored on held-out shapes-in-clutter scenes or on a folder of
// images with masks or boxes (core/explain/eval_dataset.h); writes a leaderboard (CSV, Markdown,
// SVG and PNG) row by row, so Ctrl-C keeps every finished method.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/explain/evaluate.h"
#include "core/explain/explainer.h"
#include "core/io/image_io.h"
#include "core/io/json_file.h"
#include "core/model/registry.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace fovea::cli {
namespace {

std::atomic<bool> g_interrupted{false};

// Stops at the next scene when Ctrl-C arrives; the rows written so far stay.
class InterruptibleProgress final : public Progress {
public:
    bool update(double fraction, std::string_view message) override {
        m_console.update(fraction, message);
        return !g_interrupted.load();
    }

private:
    ConsoleProgress m_console;
};

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

std::vector<double> parsePercentages(const std::string& text) {
    std::vector<double> values;
    for (const std::string& item : splitList(text)) {
        std::size_t used = 0;
        double value = 0.0;
        try {
            value = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || !(value >= 0.0 && value < 100.0)) {
            throw UsageError{"--road-percentages takes numbers in [0, 100), e.g. 10,30,50,70,90; got '" + item + "'"};
        }
        values.push_back(value);
    }
    if (values.empty()) throw UsageError{"--road-percentages needs at least one number"};
    return values;
}

}  // namespace

int runEvalCommand(const Arguments& arguments) {
    const Args args(
        arguments,
        joinNames({"methods", "scenes", "step", "out", "data", "boxes", "road-percentages"}, runtimeOptionNames()),
        {"road"});
    const std::string modelPath = args.positional().empty() ? findDemoModel() : args.positional(0, "MODEL");
    EvalOptions options;
    if (args.has("methods")) options.methods = splitList(args.value("methods"));
    if (options.methods.size() == 1 && options.methods.front() == "all") options.methods = explainerNames();
    for (const std::string& name : options.methods) findExplainer(name);  // fail before any work
    options.scenes = args.intValue("scenes", options.scenes);
    options.pixelsPerStep = args.intValue("step", options.pixelsPerStep);
    if (options.scenes <= 0 || options.pixelsPerStep <= 0) throw UsageError{"--scenes and --step must be positive"};
    options.dataFolder = args.value("data");
    options.boxesFile = args.value("boxes");
    if (args.has("data") && options.dataFolder.empty()) throw UsageError{"--data needs a folder"};
    if (args.has("boxes") && options.dataFolder.empty()) throw UsageError{"--boxes needs --data FOLDER"};
    if (args.has("scenes") && !options.dataFolder.empty()) {
        throw UsageError{"--scenes is for generated scenes, not with --data"};
    }
    options.road = args.has("road") || args.has("road-percentages");
    if (args.has("road-percentages")) options.roadPercentages = parsePercentages(args.value("road-percentages"));
    const std::string outDir = args.value("out", "fovea-eval");

    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const EvalDataset data = evalDataset(options, model->spec());  // a bad folder stops here
    std::filesystem::create_directories(outDir);
    const std::string name = std::filesystem::path(modelPath).filename().string();
    std::vector<EvalRow> written;
    EvalMaps maps;
    auto writeRows = [&](const EvalRow& row) {
        written.push_back(row);
        writeFileAtomically(outDir + "/leaderboard.csv", [&](std::ostream& out) { out << leaderboardCsv(written); });
        writeFileAtomically(outDir + "/leaderboard.md", [&](std::ostream& out) {
            out << leaderboardMarkdown(written, name, options, data.describe());
        });
        writeFileAtomically(outDir + "/leaderboard.svg", [&](std::ostream& out) { out << leaderboardSvg(written); });
        writeImage(outDir + "/leaderboard.png", leaderboardPlot(written));
        if (maps.methods.size() >= 2) {
            const std::vector<AgreementCell> agreement = methodAgreement(maps);
            writeFileAtomically(outDir + "/agreement.csv", [&](std::ostream& out) { out << agreementCsv(agreement); });
            writeFileAtomically(outDir + "/agreement.md",
                                [&](std::ostream& out) { out << agreementMarkdown(agreement, maps); });
        }
    };
    g_interrupted = false;
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    InterruptibleProgress progress;
    try {
        evaluateMethods(*model, data, options, progress, writeRows, &maps);
    } catch (const Cancelled&) {
        std::signal(SIGINT, SIG_DFL);
        std::cerr << "fovea eval: interrupted; " << written.size() << " complete method(s) in " << outDir << "/leaderboard.csv\n";
        return 130;
    }
    std::signal(SIGINT, SIG_DFL);
    std::cout << leaderboardMarkdown(written, name, options, data.describe()) << "wrote " << outDir
              << "/leaderboard.{csv,md,svg,png}" << (maps.methods.size() >= 2 ? " and agreement.{csv,md}" : "") << "\n";
    return 0;
}

int runMethodsCommand(const Arguments& arguments) {
    const Args args(arguments, runtimeOptionNames(), {});  // accepted everywhere, unused here
    std::string family;
    for (const Explainer* method : explainers()) {
        if (method->family() != family) {
            family = method->family();
            std::cout << (family == "attention" ? "Attention" : family == "cam" ? "Class activation maps" : family == "gradient" ? "Gradients" : "Perturbation")
                      << " methods\n";
        }
        std::cout << "  " << method->name() << ": " << method->title();
        if (method->needsGradients()) std::cout << " (one backward pass)";
        if (method->expensive()) std::cout << " (many forward passes, batched)";
        std::cout << "\n    " << method->citation() << "\n";
        for (const ExplainerParam& p : method->parameters()) {
            std::cout << "    --param " << p.name << "=" << p.defaultValue << "  [" << p.minimum << ".." << p.maximum << (p.integer ? ", integer" : "")
                      << "] " << p.help << "\n";
        }
    }
    return 0;
}

}  // namespace fovea::cli
