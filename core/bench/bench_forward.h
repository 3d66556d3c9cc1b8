// `fovea bench forward`: how fast a ViT forward pass with full attention capture runs, against
// a plain LibTorch matmul of the same FLOP count measured in the same run, so the ratio says how
// far the model is from matmul-bound whatever machine it runs on.
//
//     ForwardBenchOptions options;           // vit_base_patch16_224, 10 runs
//     ForwardBenchResult result = benchForward(options);
//     std::cout << result.summary();
#pragma once

#include <string>
#include <vector>

namespace fovea {

struct ForwardBenchOptions {
    std::string architecture = "vit_base_patch16_224";
    int runs = 10;
    int warmupRuns = 2;
    int threads = 0;  // 0: all available cores
    int batch = 1;    // images per forward pass (runBatch); FLOPs and references scale with it
    bool capture = true;
    std::string device = "cpu";
};

struct Timing {
    double median = 0.0;  // milliseconds
    double p10 = 0.0;
    double p90 = 0.0;
};

struct ForwardBenchResult {
    std::string architecture;
    int threads = 0;
    int tokens = 0;
    int batch = 1;
    double gflop = 0.0;              // one forward pass (of the whole batch)
    Timing forward;                   // model.run with capture
    Timing matmul;                    // one square matmul of the same FLOP count
    Timing modelGemms;                // the model's own GEMM shapes, back to back, nothing else
    double captureMegabytes = 0.0;
    // Medians of the per-run ratios (each run times the three back to back, so load changes cancel).
    double ratioToMatmul = 0.0;
    double ratioToModelGemms = 0.0;
    std::string summary() const;
};

ForwardBenchResult benchForward(const ForwardBenchOptions& options);

}  // namespace fovea

namespace fovea {

// `fovea bench explain`: each registered explanation method on a random-weight ViT (capture,
// backward when it needs gradients, and the map), relative to one plain forward pass measured
// in the same run.
// Perturbation methods (Score-CAM, occlusion, RISE) run once, batched, and report how many
// images per second they push through the model.
struct ExplainBenchRow {
    std::string method;
    Timing time;
    double ratioToForward = 0.0;
    double forwardImages = 0.0;    // images the method ran (perturbation methods)
    double imagesPerSecond = 0.0;  // forwardImages / median time
    int batch = 0;
};

struct ExplainBenchResult {
    std::string architecture;
    int threads = 0;
    Timing forward;  // model.run with nothing captured
    std::vector<ExplainBenchRow> rows;
    std::string summary() const;
};

// methods: names to run (empty: every registered method).
ExplainBenchResult benchExplain(const ForwardBenchOptions& options, const std::vector<std::string>& methods = {});

}  // namespace fovea
