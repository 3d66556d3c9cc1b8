#include "core/bench/bench_forward.h"

#include "core/explain/explainer.h"

#include "core/model/runtime.h"
#include "core/model/vit.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <sstream>

namespace fovea {

namespace {

Timing summarise(std::vector<double> times) {
    std::sort(times.begin(), times.end());
    auto at = [&](double q) { return times[std::size_t(std::lround(q * double(times.size() - 1)))]; };
    return {at(0.5), at(0.1), at(0.9)};
}

double millisecondsOf(const std::function<void()>& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

Timing measure(int warmup, int runs, const std::function<void()>& work) {
    for (int i = 0; i < warmup; ++i) work();
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) times.push_back(millisecondsOf(work));
    return summarise(times);
}

// Each run times every piece of work once, in turn, so that a change in the machine's load (other
// processes, clock changes) falls on all of them alike; `ratios` gets, per run, the time of the
// first piece over each other piece's.
std::vector<Timing> measureInterleaved(int warmup, int runs, const std::vector<std::function<void()>>& works,
                                       std::vector<std::vector<double>>& ratios) {
    for (int i = 0; i < warmup; ++i) {
        for (const auto& work : works) work();
    }
    std::vector<std::vector<double>> times(works.size());
    ratios.assign(works.size(), {});
    for (int i = 0; i < runs; ++i) {
        for (std::size_t w = 0; w < works.size(); ++w) times[w].push_back(millisecondsOf(works[w]));
        for (std::size_t w = 1; w < works.size(); ++w) ratios[w].push_back(times[0].back() / times[w].back());
    }
    std::vector<Timing> out;
    for (const auto& t : times) out.push_back(summarise(t));
    return out;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Multiply-add count x2 of every GEMM in one forward pass (batch 1).
double forwardFlops(const ModelSpec& spec) {
    const double n = spec.tokenCount(), d = spec.embedDim, m = spec.mlpHidden;
    const double patches = double(spec.gridRows()) * spec.gridCols();
    const double perBlock = 2 * n * d * 3 * d + 2 * 2 * n * n * d + 2 * n * d * d + 2 * 2 * n * d * m;
    return spec.depth * perBlock + 2 * patches * (spec.channels * spec.patchSize * spec.patchSize) * d +
           2 * d * std::max(spec.numClasses, 0);
}

// A random-weight model of the named architecture on the chosen device, and a random input.
struct BenchModel {
    VitModel model;
    ImageInput input;
};

BenchModel makeBenchModel(const ForwardBenchOptions& options) {
    const std::optional<ModelSpec> spec = specFromTimmName(options.architecture);
    if (!spec) throw Error("bench: '" + options.architecture + "' is not a well-known timm ViT name (e.g. vit_base_patch16_224)");
    RuntimeOptions runtime;
    runtime.threads = options.threads;
    runtime.device = options.device;
    applyRuntimeOptions(runtime);
    ImageInput input;
    input.height = spec->imageHeight;
    input.width = spec->imageWidth;
    input.pixels.resize(std::size_t(3) * input.height * input.width);
    const at::Tensor noise = at::randn({3, input.height, input.width});
    std::copy(noise.data_ptr<float>(), noise.data_ptr<float>() + noise.numel(), input.pixels.begin());
    return {VitModel(*spec, initializeVitWeights(*spec, 1), resolveDevice(options.device)), std::move(input)};
}

}  // namespace

ForwardBenchResult benchForward(const ForwardBenchOptions& options) {
    const std::string device = resolveDevice(options.device);
    if (options.batch < 1) throw Error("bench: the batch must hold at least one image");
    BenchModel bench = makeBenchModel(options);
    const ModelSpec* spec = &bench.model.spec();
    VitModel& model = bench.model;
    // Distinct images (noise differs per image), so that nothing is computed once for the batch.
    std::vector<ImageInput> inputs(std::size_t(options.batch), bench.input);
    for (int i = 1; i < options.batch; ++i) {
        const at::Tensor noise = at::randn({int64_t(bench.input.pixels.size())});
        std::copy(noise.data_ptr<float>(), noise.data_ptr<float>() + noise.numel(), inputs[std::size_t(i)].pixels.begin());
    }

    ForwardBenchResult result;
    result.architecture = options.architecture;
    result.threads = runtimeThreads();
    result.tokens = spec->tokenCount();
    result.batch = options.batch;
    result.gflop = forwardFlops(*spec) * options.batch / 1e9;
    const CaptureRequest request = options.capture ? CaptureRequest() : CaptureRequest::nothing();
    std::size_t captured = 0;
    const at::Device target(device);
    // A square matmul with the same FLOP count: 2 n^3 = flops.
    const int64_t side = std::lround(std::cbrt(result.gflop * 1e9 / 2.0));
    const at::Tensor a = at::randn({side, side}, target), b = at::randn({side, side}, target);
    // The model's GEMM shapes without anything around them.
    const int64_t n = spec->tokenCount(), d = spec->embedDim, m = spec->mlpHidden, h = spec->numHeads;
    const int64_t rows = n * options.batch, stacks = h * options.batch;
    const at::Tensor x = at::randn({rows, d}, target), wqkv = at::randn({3 * d, d}, target), wproj = at::randn({d, d}, target);
    const at::Tensor w1 = at::randn({m, d}, target), w2 = at::randn({d, m}, target), hidden = at::randn({rows, m}, target);
    const at::Tensor q = at::randn({stacks, n, d / h}, target), scores = at::randn({stacks, n, n}, target);
    const auto forward = [&] {
        if (options.batch == 1) {
            captured = model.run(inputs.front(), request).attention.storedBytes();
            return;
        }
        captured = 0;
        for (const ModelOutputs& out : model.runBatch(inputs, request)) captured += out.attention.storedBytes();
    };
    const auto matmul = [&] {
        c10::InferenceMode inference;
        at::Tensor c = at::mm(a, b);
        if (target.is_cuda()) c.cpu();
    };
    const auto gemms = [&] {
        c10::InferenceMode inference;
        for (int l = 0; l < spec->depth; ++l) {
            at::linear(x, wqkv);
            at::matmul(q, q.transpose(1, 2));
            at::matmul(scores, q);
            at::linear(x, wproj);
            at::linear(x, w1);
            at::linear(hidden, w2);
        }
        if (target.is_cuda()) x.cpu();
    };
    std::vector<std::vector<double>> ratios;
    const std::vector<Timing> timings = measureInterleaved(options.warmupRuns, options.runs, {forward, matmul, gemms}, ratios);
    result.forward = timings[0];
    result.matmul = timings[1];
    result.modelGemms = timings[2];
    result.ratioToMatmul = median(ratios[1]);
    result.ratioToModelGemms = median(ratios[2]);
    result.captureMegabytes = double(captured) / (1024.0 * 1024.0);
    return result;
}

std::string ForwardBenchResult::summary() const {
    char text[1024];
    auto gflops = [&](double ms) { return gflop / (ms / 1000.0); };
    std::snprintf(text, sizeof(text),
                  "%s: %d tokens, batch of %d, %.2f GFLOP per forward, %d threads\n"
                  "  forward + full capture  median %8.2f ms (p10 %.2f, p90 %.2f)  %6.1f GFLOP/s  capture %.1f MiB\n"
                  "  matmul, same FLOPs      median %8.2f ms (p10 %.2f, p90 %.2f)  %6.1f GFLOP/s\n"
                  "  model GEMMs only        median %8.2f ms (p10 %.2f, p90 %.2f)  %6.1f GFLOP/s\n"
                  "  ratio forward / matmul      %.2fx   (goal <= 1.2x; median of the per-run ratios, runs interleaved)\n"
                  "  ratio forward / model GEMMs %.2fx\n",
                  architecture.c_str(), tokens, batch, gflop, threads, forward.median, forward.p10, forward.p90,
                  gflops(forward.median), captureMegabytes, matmul.median, matmul.p10, matmul.p90, gflops(matmul.median),
                  modelGemms.median, modelGemms.p10, modelGemms.p90, gflops(modelGemms.median),
                  ratioToMatmul, ratioToModelGemms);
    return text;
}

ExplainBenchResult benchExplain(const ForwardBenchOptions& options, const std::vector<std::string>& methods) {
    BenchModel bench = makeBenchModel(options);
    VitModel& model = bench.model;
    const ImageInput& input = bench.input;

    ExplainBenchResult result;
    result.architecture = options.architecture;
    result.threads = runtimeThreads();
    result.forward = measure(options.warmupRuns, options.runs, [&] { model.run(input, CaptureRequest::nothing()); });
    for (const Explainer* method : explainers()) {
        if (!methods.empty() && std::find(methods.begin(), methods.end(), method->name()) == methods.end()) continue;
        // RISE's default 2000 masks take minutes on ViT-B; its throughput is what is measured.
        const ExplainParams params = method->name() == "rise" ? method->resolve({{"masks", 256}}) : method->defaults();
        ExplainBenchRow row;
        row.method = method->name();
        const int warmup = method->expensive() ? 0 : options.warmupRuns;
        const int runs = method->expensive() ? 1 : options.runs;
        double images = 0.0;
        row.time = measure(warmup, runs, [&] {
            ExplainContext context(model, input);
            const cv::Mat map = method->explain(context, params);
            if (map.empty()) throw Error("bench: " + method->name() + " returned no map");
            row.batch = context.batchSize;
            for (const auto& [key, value] : context.notes()) {
                if (key == "forward_images") images = value;
            }
        });
        row.ratioToForward = row.time.median / result.forward.median;
        if (images > 0.0) {
            row.forwardImages = images;
            row.imagesPerSecond = images / (row.time.median / 1000.0);
        }
        result.rows.push_back(row);
    }
    return result;
}

std::string ExplainBenchResult::summary() const {
    std::ostringstream out;
    out << architecture << ": explanation methods, " << threads << " threads (median of runs)\n";
    out << "  forward, nothing captured   " << std::fixed << std::setprecision(2) << std::setw(9) << forward.median << " ms\n";
    for (const ExplainBenchRow& row : rows) {
        out << "  " << std::left << std::setw(26) << row.method << std::right << std::setw(10) << row.time.median
            << " ms (p10 " << row.time.p10 << ", p90 " << row.time.p90 << ")  " << row.ratioToForward << "x forward";
        if (row.forwardImages > 0.0) {
            out << "  [" << std::setprecision(0) << row.forwardImages << " images in batches of " << row.batch << ", "
                << std::setprecision(1) << row.imagesPerSecond << " images/s]" << std::setprecision(2);
        }
        out << '\n';
    }
    return out.str();
}

}  // namespace fovea
