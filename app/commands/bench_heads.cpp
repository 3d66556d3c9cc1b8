// fovea bench heads: head features + taxonomy + clustering for ~1,000 heads over 100 inputs of
// captured attention (issue 5's goal: under 2 s), on synthetic float16 stacks of realistic size
// (planted patterns with noise, 197 tokens = CLS + 14 x 14 patches). The reference measured in
// the same run is one pass on one thread that reads every attention value with the features' row
// loader (float16 -> float32 and a sum): the least any feature pass must do. A second reference,
// the floor, on all threads, reads every row with v ln v (the entropy's part) and adds it to
// column and relative-offset sums: the feature pass without its sparsity and bookkeeping. The run
// ends with the portable and the AVX2 row kernels timed on the same inputs. --device cuda runs
// the feature pass on a GPU (core/heads/head_features_device.h), from the same CPU-side stacks;
// --torch-pass runs that LibTorch pass on the CPU.
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "core/heads/attention_rows.h"
#include "core/heads/head_atlas.h"
#include "core/heads/head_features_device.h"
#include "core/heads/planted_heads.h"
#include "core/heads/row_kernels.h"
#include "core/io/safetensors.h"
#include "core/model/runtime.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <thread>

namespace fovea::cli {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int runHeadsBenchCommand(const Arguments& arguments) {
    const Args args(
        arguments,
        {"layers", "heads", "inputs", "tokens", "pool", "threads", "tsne-iterations", "device"},
        {"no-tsne", "torch-pass"});
    const int layers = args.intValue("layers", 84);
    const int headsPerLayer = args.intValue("heads", 12);
    const int inputs = args.intValue("inputs", 100);
    const int tokens = args.intValue("tokens", 197);
    const int pool = std::max(1, std::min(inputs, args.intValue("pool", 2)));
    const int threads = args.intValue("threads", 0);
    const int side = int(std::lround(std::sqrt(double(tokens - 1))));
    if (layers < 1 || headsPerLayer < 1 || inputs < 1)
        throw UsageError{"--layers, --heads and --inputs must be positive"};
    if (side * side + 1 != tokens)
        throw UsageError{"--tokens must be 1 + a square (CLS + a patch grid), e.g. 197"};
    const int workers =
        threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    const std::string device = resolveDevice(args.value("device", "auto"));
    // The LibTorch pass runs wherever the device is not the CPU; --torch-pass runs it on the CPU
    // too (to compare it with the hand-written pass there).
    const bool torchPass = device != "cpu" || args.has("torch-pass");
    std::printf(
        "heads benchmark: %d layers x %d heads = %d heads, %d inputs of %d tokens (CLS + %dx%d), "
        "float16, %d threads, feature pass on %s\n",
        layers, headsPerLayer, layers * headsPerLayer, inputs, tokens, side, side, workers,
        device.c_str());

    const PlantedPattern kinds[] = {PlantedPattern::Local,  PlantedPattern::Global,
                                    PlantedPattern::Sink,   PlantedPattern::ClsCollector,
                                    PlantedPattern::Self,   PlantedPattern::Row,
                                    PlantedPattern::Column, PlantedPattern::Uniform};
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, side, side);
    auto start = std::chrono::steady_clock::now();
    std::vector<AttentionStack> stacks;
    for (int p = 0; p < pool; ++p) {
        std::vector<std::vector<PlantedPattern>> patterns(static_cast<std::size_t>(layers));
        for (int l = 0; l < layers; ++l) {
            for (int h = 0; h < headsPerLayer; ++h)
                patterns[std::size_t(l)].push_back(kinds[(l * headsPerLayer + h) % 8]);
        }
        stacks.push_back(
            plantedStack(layout, patterns, {}, false, 0.1, std::uint64_t(p + 1), true));
    }
    const double generation = secondsSince(start);
    const double gib = double(stacks[0].storedBytes()) * inputs / double(1u << 30);
    std::printf(
        "  synthetic stacks: %d distinct, cycled over the inputs (%.1f s to generate; %.2f GiB of "
        "attention read in all)\n",
        pool, generation, gib);

    // Reference: read every value once, with the same row loader as the features (float16 to
    // float32 8 at a time where the CPU has it, one thread: a floor for any feature pass).
    std::vector<float> buffer(std::size_t(heads_detail::paddedLength(tokens)), 0.0f);
    start = std::chrono::steady_clock::now();
    double checksum = 0.0;
    for (int i = 0; i < inputs; ++i) {
        for (const AttentionLayer& layer : stacks[std::size_t(i % pool)].layers) {
            const std::size_t rows = layer.halfValues.size() / std::size_t(tokens);
            for (std::size_t r = 0; r < rows; ++r) {
                const std::size_t at = r * std::size_t(tokens);
                checksum += heads_detail::loadRow(layer.halfValues.data() + at,
                                                  layer.halfValues.size() - at, nullptr, tokens,
                                                  buffer.data(), false)
                                .sum;
            }
        }
    }
    const double reference = secondsSince(start);

    // Floor, on all threads: every row read with v ln v and added, scaled, to its head's column
    // sums and (patch queries) relative-offset sums, as the feature pass does -- reading, the
    // entropy's logarithms and the two accumulations. What the pass adds to it is the sparsity
    // and the per-row and per-head bookkeeping.
    double floorChecksum = 0.0;
    start = std::chrono::steady_clock::now();
    {
        const int padded = heads_detail::paddedLength(tokens);
        const int width = 2 * side - 1;  // offsets (dr, dc) at (dr + side - 1) * width + ...
        const int offsetRoom = width * width + 2 * heads_detail::kRowPadding;
        const int floorWorkers = heads_detail::workerCount(layers * headsPerLayer, threads);
        // Per worker: the row, the column sums and the offset sums, each from a cache line (as
        // in the feature pass: its kernels slow down on buffers that straddle lines).
        const int stride = (padded + 15) / 16 * 16 * 2 + (offsetRoom + 15) / 16 * 16;
        std::vector<float> buffers(std::size_t(floorWorkers) * std::size_t(stride) + 16, 0.0f);
        float* base =
            buffers.data() +
            (16 - reinterpret_cast<std::uintptr_t>(buffers.data()) / sizeof(float) % 16) % 16;
        std::vector<double> checksums(std::size_t(floorWorkers), 0.0);
        for (int i = 0; i < inputs; ++i) {
            const AttentionStack& stack = stacks[std::size_t(i % pool)];
            heads_detail::parallelFor(layers * headsPerLayer, threads, [&](int job, int worker) {
                const AttentionLayer& layer = stack.layers[std::size_t(job / headsPerLayer)];
                float* row = base + std::size_t(worker) * std::size_t(stride);
                float* column = row + (padded + 15) / 16 * 16;
                float* offsets = column + (padded + 15) / 16 * 16;
                std::fill(column, column + padded, 0.0f);
                std::fill(offsets, offsets + offsetRoom, 0.0f);
                double entropy = 0.0;
                for (int q = 0; q < tokens; ++q) {
                    const std::size_t at =
                        (std::size_t(job % headsPerLayer) * tokens + std::size_t(q)) * tokens;
                    const heads_detail::RowTotals t = heads_detail::loadRow(
                        layer.halfValues.data() + at, layer.halfValues.size() - at, nullptr, tokens,
                        row, true);
                    const float scale = 1.0f / t.sum;
                    heads_detail::addScaled(column, row, tokens, scale);
                    entropy += double(t.xlogx) * scale;
                    if (q == 0) continue;  // CLS: not a patch
                    const int pr = (q - 1) / side, pc = (q - 1) % side;
                    heads_detail::addScaledRows(offsets + (side - 1 - pr) * width + (side - 1 - pc),
                                                width, row + 1, side, side, side, scale);
                }
                checksums[std::size_t(worker)] += entropy + column[0] + offsets[width + 1];
            });
        }
        for (double c : checksums) floorChecksum += c;
    }
    const double floorSeconds = secondsSince(start);

    HeadFeatureOptions featureOptions;
    featureOptions.threads = threads;
    HeadFeatureAccumulator accumulator(featureOptions);
    const std::clock_t cpuStart =
        std::clock();  // CPU time of all threads: robust to a busy machine
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < inputs; ++i) {
        const AttentionStack& stack = stacks[std::size_t(i % pool)];
        if (!torchPass)
            accumulator.add(stack);
        else
            accumulator.addMeasured(stack, measureHeadRows(stack, device, featureOptions));
    }
    const HeadFeatureTable features = accumulator.table();
    const double featureSeconds = secondsSince(start);

    start = std::chrono::steady_clock::now();
    const auto labels = classifyHeads(features);
    const double taxonomySeconds = secondsSince(start);

    start = std::chrono::steady_clock::now();
    const DescriptorMatrix descriptors = headDescriptors(features);
    const HeadClustering clusters = clusterHeads(descriptors, ClusterOptions{});
    const std::vector<std::string> names = nameClusters(clusters.assignment, clusters.k, labels);
    const PcaResult pca = principalComponents(descriptors, 3);
    const double clusterSeconds = secondsSince(start);
    const double cpuSeconds = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;

    const double total = featureSeconds + taxonomySeconds + clusterSeconds;
    const double readPerValue =
        reference / (double(inputs) * layers * headsPerLayer * tokens * tokens) * 1e9;
    std::printf(
        "  reference (read every value once, 1 thread): %9.1f ms  (%.2f ns per value; checksum "
        "%.0f)\n",
        reference * 1e3, readPerValue, checksum);
    std::printf(
        "  floor (read + v ln v + column and offset sums, %d threads): %9.1f ms  (%.2f ns per "
        "value; "
        "checksum %.0f)\n",
        workers, floorSeconds * 1e3,
        floorSeconds / (double(inputs) * layers * headsPerLayer * tokens * tokens) * 1e9,
        floorChecksum);
    std::printf(
        "  features (%d inputs, %s):          %9.1f ms  (%.1fx the reference, %.2fx the floor)\n",
        inputs, torchPass ? "LibTorch pass" : "CPU pass", featureSeconds * 1e3,
        featureSeconds / reference, featureSeconds / floorSeconds);
    std::printf("  taxonomy:                            %9.1f ms\n", taxonomySeconds * 1e3);
    std::printf(
        "  descriptors + k-means (k=2..8, silhouette) + PCA: %6.1f ms  (k = %d, silhouette %.3f)\n",
        clusterSeconds * 1e3, clusters.k, clusters.silhouette);
    std::printf(
        "  total features + taxonomy + clustering: %.1f ms wall, %.1f s CPU on %d threads; goal "
        "(1,000 heads x 100 inputs) 2000 ms wall: %s\n",
        total * 1e3, cpuSeconds, workers,
        double(layers) * headsPerLayer * inputs < 1e5 ? "not measured (a smaller run)"
        : total <= 2.0                                ? "met"
                                                      : "NOT met");
    std::printf("  CPU per attention value: %.2f ns (features + taxonomy + clustering)\n",
                cpuSeconds / (double(inputs) * layers * headsPerLayer * tokens * tokens) * 1e9);
    std::printf("  clusters:");
    for (const std::string& name : names) std::printf(" [%s]", name.c_str());
    std::printf("\n  PCA variances: %.3f %.3f %.3f\n", pca.variances[0], pca.variances[1],
                pca.variances[2]);
    if (!args.has("no-tsne")) {
        TsneOptions tsne;
        tsne.iterations = args.intValue("tsne-iterations", tsne.iterations);
        start = std::chrono::steady_clock::now();
        const std::vector<double> map = tsneEmbedding(descriptors, tsne);
        std::printf("  t-SNE (exact, %zu heads, %d iterations, optional): %.1f ms\n",
                    features.heads.size(), tsne.iterations, secondsSince(start) * 1e3);
        (void)map;
    }
    // The same features with the portable (scalar) row kernels, on a few inputs: what the
    // vectorised kernels gain on this CPU.
    const int few = std::min(inputs, 2);
    if (heads_detail::rowKernelsVectorised()) {
        std::vector<double> perValue;
        for (const auto set :
             {heads_detail::RowKernelSet::Portable, heads_detail::RowKernelSet::Auto}) {
            heads_detail::selectRowKernels(set);
            HeadFeatureAccumulator again(featureOptions);
            const std::clock_t cpu = std::clock();
            for (int i = 0; i < few; ++i) again.add(stacks[std::size_t(i % pool)]);
            perValue.push_back(double(std::clock() - cpu) / CLOCKS_PER_SEC /
                               (double(few) * layers * headsPerLayer * tokens * tokens) * 1e9);
        }
        std::printf(
            "  row kernels (%d inputs, CPU per value): portable %.2f ns, AVX2 %.2f ns (%.1fx)\n",
            few, perValue[0], perValue[1], perValue[0] / perValue[1]);
    } else {
        std::printf(
            "  row kernels: portable (FOVEA_ROW_KERNELS=portable, or no AVX2 + FMA + F16C here)\n");
    }
    return 0;
}

}  // namespace fovea::cli
