// fovea bench forward: forward-pass speed against a matmul of the same FLOP count.
// fovea bench explain [--method NAME ...]: each explanation method against one forward pass.
// fovea bench segment: TokenCut and deep spectral on random keys (196 and 1,024 patches).
// fovea bench gaze: saliency and scanpath metrics (commands/bench_gaze.cpp).
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "core/bench/bench_forward.h"
#include "core/explain/explainer.h"
#include "core/segment/segmenter.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

namespace fovea::cli {

namespace {

// Median milliseconds of each spectral method (and solver) on random ViT-S-sized keys (384-d).
int benchSegment(int runs) {
    std::printf("%-10s %-8s %8s %12s\n", "method", "solver", "patches", "median ms");
    for (const int side : {14, 32}) {
        SegmentInputs inputs;
        inputs.gridRows = inputs.gridCols = side;
        inputs.keys.create(side * side, 384);
        cv::theRNG().state = 12345;
        cv::randn(inputs.keys, 0.0, 1.0);
        // A planted object so the graph has structure: a shared direction on a block of patches.
        for (int r = side / 4; r < side / 2; ++r) {
            for (int c = side / 4; c < side / 2; ++c) inputs.keys.row(r * side + c) += 4.0f;
        }
        for (const char* name : {"tokencut", "spectral"}) {
            for (const int solver : {1, 2}) {
                const Segmenter& method = findSegmenter(name);
                const SegmentParams params = method.resolve({{"solver", solver}});
                std::vector<double> times;
                for (int run = 0; run < runs; ++run) {
                    const auto start = std::chrono::steady_clock::now();
                    method.segment(inputs, params);
                    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
                }
                std::sort(times.begin(), times.end());
                std::printf("%-10s %-8s %8d %12.1f\n", name, solver == 1 ? "dense" : "lanczos", side * side, times[times.size() / 2]);
            }
        }
    }
    return 0;
}

}  // namespace

int runBenchCommand(const Arguments& arguments) {
#ifdef FOVEA_HAS_GUI
    if (!arguments.empty() && arguments[0] == "gui") return runGuiBenchCommand(Arguments(arguments.begin() + 1, arguments.end()));
#endif
    if (!arguments.empty() && arguments[0] == "gaze") return runGazeBenchCommand(Arguments(arguments.begin() + 1, arguments.end()));
    if (!arguments.empty() && arguments[0] == "heads") return runHeadsBenchCommand(Arguments(arguments.begin() + 1, arguments.end()));
    if (!arguments.empty() && arguments[0] == "heads-importance") {
        return runHeadsImportanceBenchCommand(Arguments(arguments.begin() + 1, arguments.end()));
    }
    const Args args(arguments, joinNames({"arch", "runs", "warmup", "method", "batch"}, runtimeOptionNames()), {"no-capture"});
    const std::string what = args.positional(0, "what to benchmark (forward, explain, segment, gaze, gui)");
    if (what == "segment") return benchSegment(std::max(1, args.intValue("runs", 5)));
    if (what != "forward" && what != "explain") throw UsageError{"unknown benchmark '" + what + "' (available: forward, explain, segment, gaze, gui)"};
    ForwardBenchOptions options;
    options.architecture = args.value("arch", options.architecture);
    options.runs = std::max(1, args.intValue("runs", options.runs));
    options.warmupRuns = std::max(0, args.intValue("warmup", options.warmupRuns));
    options.threads = args.intValue("threads", 0);
    options.batch = args.intValue("batch", 1);
    if (options.batch < 1) throw UsageError{"--batch must be at least 1"};
    if (what == "explain" && options.batch != 1) throw UsageError{"--batch is for bench forward"};
    options.device = args.value("device", "cpu");
    options.capture = !args.has("no-capture");
    std::vector<std::string> methods;
    for (const std::string& name : args.values("method")) methods.push_back(findExplainer(name).name());
    std::cout << (what == "explain" ? benchExplain(options, methods).summary() : benchForward(options).summary());
    return 0;
}

}  // namespace fovea::cli
