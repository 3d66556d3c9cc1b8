// fovea bench forward: forward-pass speed against a matmul of the same FLOP count.
// fovea bench explain [--method NAME ...]: each explanation method against one forward pass.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "core/bench/bench_forward.h"
#include "core/explain/explainer.h"

#include <iostream>

namespace fovea::cli {

int runBenchCommand(const Arguments& arguments) {
#ifdef FOVEA_HAS_GUI
    if (!arguments.empty() && arguments[0] == "gui") return runGuiBenchCommand(Arguments(arguments.begin() + 1, arguments.end()));
#endif
    const Args args(arguments, joinNames({"arch", "runs", "warmup", "method"}, runtimeOptionNames()), {"no-capture"});
    const std::string what = args.positional(0, "what to benchmark (forward, explain, gui)");
    if (what != "forward" && what != "explain") throw UsageError{"unknown benchmark '" + what + "' (available: forward, explain, gui)"};
    ForwardBenchOptions options;
    options.architecture = args.value("arch", options.architecture);
    options.runs = std::max(1, args.intValue("runs", options.runs));
    options.warmupRuns = std::max(0, args.intValue("warmup", options.warmupRuns));
    options.threads = args.intValue("threads", 0);
    options.device = args.value("device", "cpu");
    options.capture = !args.has("no-capture");
    std::vector<std::string> methods;
    for (const std::string& name : args.values("method")) methods.push_back(findExplainer(name).name());
    std::cout << (what == "explain" ? benchExplain(options, methods).summary() : benchForward(options).summary());
    return 0;
}

}  // namespace fovea::cli
