// fovea bench heads-importance: how long head importance (every head masked over N inputs, plus
// the gradient proxy) takes on a random-weight checkpoint of a named architecture (ViT-B/16 by
// default), against the unmasked batched pass measured in the same run: recomputing every masked
// pass from the input would cost (layers x heads) such passes; the cache restarts at the head's
// layer instead. Extrapolates linearly in the number of inputs (every pass is per input).

#include "app/cli_args.h"
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/data/shapes_scene.h"
#include "core/heads/importance.h"
#include "core/model/random_model.h"
#include "core/model/registry.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fovea::cli {

int runHeadsBenchCommand(const Arguments& arguments) {
    const Args args(
        arguments,
        joinNames({"arch", "images", "batch", "model", "extrapolate"}, runtimeOptionNames()),
        {"no-gradient"});
    const int images = args.intValue("images", 10);
    const int extrapolate = args.intValue("extrapolate", 100);
    if (images <= 0 || extrapolate <= 0)
        throw UsageError{"--images and --extrapolate must be positive"};
    std::string modelPath = args.value("model");
    std::filesystem::path temporary;
    const std::string arch = args.value("arch", "vit_base_patch16_224");
    if (modelPath.empty()) {
        temporary = std::filesystem::temp_directory_path() / ("fovea_bench_heads_" + arch);
        std::filesystem::remove_all(temporary);
        writeRandomVitCheckpoint(temporary.string(), arch, /*seed*/ 1);
        modelPath = temporary.string();
    }
    const std::unique_ptr<Model> model = openModel(modelPath, runtimeFromArgs(args));
    const ModelSpec& spec = model->spec();
    std::vector<ImportanceSample> samples;
    for (int i = 0; i < images; ++i) {
        const Scene scene = generateScene(1000000000ULL + 600000 + std::uint64_t(i));
        samples.push_back({makeImageInput(scene.image, spec, "scene"), -1});
    }
    HeadImportanceOptions options;
    options.batchSize = args.intValue("batch", 8);
    options.gradientProxy = !args.has("no-gradient");
    ConsoleProgress progress;
    const HeadImportanceReport r = computeHeadImportance(*model, samples, options, progress);
    const double heads = double(r.heads.size());
    const double naive = heads * r.cacheSeconds;  // every masked pass from the input
    const double total = r.cacheSeconds + r.maskingSeconds + r.gradientSeconds;
    const double scale = double(extrapolate) / images;
    std::printf(
        "head importance: %s (%s), %d layers x %d heads, %d tokens, %d inputs, batch %d, device "
        "%s\n",
        spec.architecture.c_str(), modelPath.c_str(), spec.depth, spec.numHeads, spec.tokenCount(),
        images, options.batchSize, model->deviceName().c_str());
    std::printf("  unmasked pass (fills the cache)   %8.2f s   (%.1f ms per input)\n",
                r.cacheSeconds, 1000.0 * r.cacheSeconds / images);
    std::printf("  %3.0f masked heads, cached restart  %8.2f s   (%.1f ms per head and input)\n",
                heads, r.maskingSeconds, 1000.0 * r.maskingSeconds / (heads * images));
    std::printf("  gradient proxy                     %8.2f s\n", r.gradientSeconds);
    std::printf("  masked passes without the cache    %8.2f s   (estimate: %.0f unmasked passes)\n",
                naive, heads);
    std::printf("  cached / without cache             %8.3f     (blocks run: %.3f)\n",
                r.maskingSeconds / naive, double(r.blocksRun) / double(r.blocksWithoutCache));
    std::printf(
        "  total                              %8.2f s;  extrapolated to %d inputs: %.1f s (%.1f "
        "min)\n",
        total, extrapolate, total * scale, total * scale / 60.0);
    if (!temporary.empty()) std::filesystem::remove_all(temporary);
    return 0;
}

}  // namespace fovea::cli
