#include "core/heads/importance.h"

#include "core/model/vit.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <random>
#include <sstream>

namespace fovea {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// What every entry point needs: the ViT, the inputs as one CPU tensor, the model's current
// head scales as the baseline every mask is added to.
struct Prepared {
    VitModel* vit = nullptr;
    at::Device device = at::kCPU;
    at::Tensor pixels;                 // [N, C, H, W] on the CPU
    std::vector<std::int64_t> labels;  // -1 until resolved from the unmasked prediction
    at::Tensor baseScales;             // [L, H] on the device
    int layers = 0, heads = 0, labelled = 0;
};

Prepared prepare(Model& model, const std::vector<ImportanceSample>& samples) {
    Prepared p;
    const ModelSpec& spec = model.spec();
    const std::string name = spec.architecture.empty() ? spec.family : spec.architecture;
    p.vit = dynamic_cast<VitModel*>(&model);
    if (p.vit == nullptr || spec.numClasses <= 0) {
        throw Error(name,
                    "head importance needs a ViT classifier (a vit-family model with a "
                    "classification head)");
    }
    if (samples.empty()) throw Error(name, "head importance needs at least one input");
    const ImageInput& first = samples.front().image;
    const std::int64_t c = spec.channels, h = first.height, w = first.width;
    p.pixels = at::empty({std::int64_t(samples.size()), c, h, w}, at::kFloat);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const ImageInput& image = samples[i].image;
        const std::string source =
            image.source.empty() ? "input " + std::to_string(i) : image.source;
        if (image.height != first.height || image.width != first.width) {
            throw Error(source, "is " + std::to_string(image.height) + "x" +
                                    std::to_string(image.width) + ", the first input " +
                                    std::to_string(h) + "x" + std::to_string(w) +
                                    "; head importance needs one size");
        }
        if (image.pixels.size() != std::size_t(c * h * w))
            throw Error(source, "pixel buffer does not match its size");
        if (h % spec.patchSize != 0 || w % spec.patchSize != 0) {
            throw Error(source, "size is not a multiple of the patch size " +
                                    std::to_string(spec.patchSize));
        }
        std::copy(image.pixels.begin(), image.pixels.end(),
                  p.pixels[std::int64_t(i)].data_ptr<float>());
        if (samples[i].label >= spec.numClasses) {
            throw Error(source, "label " + std::to_string(samples[i].label) +
                                    " is not a class of the model (" +
                                    std::to_string(spec.numClasses) + " classes)");
        }
        p.labels.push_back(samples[i].label);
        if (samples[i].label >= 0) ++p.labelled;
    }
    p.device = p.vit->device();
    p.layers = spec.depth;
    p.heads = spec.numHeads;
    const HeadScales current = model.headScales();
    p.baseScales =
        at::tensor(current.values(), at::kFloat).reshape({p.layers, p.heads}).to(p.device);
    return p;
}

struct Chunk {
    std::int64_t begin = 0, size = 0;
};

std::vector<Chunk> chunks(std::int64_t count, int batchSize) {
    if (batchSize <= 0) throw Error("head importance", "batch size must be positive");
    std::vector<Chunk> out;
    for (std::int64_t b = 0; b < count; b += batchSize)
        out.push_back({b, std::min<std::int64_t>(batchSize, count - b)});
    return out;
}

at::Tensor chunkPixels(const Prepared& p, const Chunk& chunk) {
    return p.pixels.narrow(0, chunk.begin, chunk.size).to(p.device);
}

at::Tensor chunkLabels(const Prepared& p, const Chunk& chunk) {
    const std::vector<std::int64_t> part(p.labels.begin() + chunk.begin,
                                         p.labels.begin() + chunk.begin + chunk.size);
    return at::tensor(part, at::kLong).to(p.device);
}

// Fills the labels left at -1 with the unmasked model's prediction.
void resolveLabels(Prepared& p, const at::Tensor& logits, const Chunk& chunk) {
    const at::Tensor predicted = logits.argmax(1).to(at::kCPU);
    for (std::int64_t i = 0; i < chunk.size; ++i) {
        std::int64_t& label = p.labels[std::size_t(chunk.begin + i)];
        if (label < 0) label = predicted[i].item<std::int64_t>();
    }
}

at::Tensor maskedScales(const Prepared& p, const std::vector<std::pair<int, int>>& heads) {
    at::Tensor scales = p.baseScales.clone();
    for (const auto& [layer, head] : heads) scales[layer][head] = 0.0f;
    return scales;
}

bool lessImportant(const HeadImportance& a, const HeadImportance& b, ImportanceOrder order) {
    // Returns true when a ranks before b (is more important).
    switch (order) {
        case ImportanceOrder::Accuracy:
            if (a.accuracyDelta != b.accuracyDelta) return a.accuracyDelta < b.accuracyDelta;
            if (a.confidenceDelta != b.confidenceDelta)
                return a.confidenceDelta < b.confidenceDelta;
            return a.klDivergence > b.klDivergence;
        case ImportanceOrder::Confidence:
            if (a.confidenceDelta != b.confidenceDelta)
                return a.confidenceDelta < b.confidenceDelta;
            return a.klDivergence > b.klDivergence;
        case ImportanceOrder::KlDivergence:
            return a.klDivergence > b.klDivergence;
        case ImportanceOrder::GradientProxy:
            return a.gradientProxy > b.gradientProxy;
    }
    return false;
}

}  // namespace

ImportanceOrder importanceOrderFromName(const std::string& name) {
    if (name == "accuracy") return ImportanceOrder::Accuracy;
    if (name == "confidence") return ImportanceOrder::Confidence;
    if (name == "kl") return ImportanceOrder::KlDivergence;
    if (name == "gradient") return ImportanceOrder::GradientProxy;
    throw Error("importance order",
                "'" + name + "' is not one of accuracy, confidence, kl, gradient");
}

const char* importanceOrderName(ImportanceOrder order) {
    switch (order) {
        case ImportanceOrder::Accuracy:
            return "accuracy";
        case ImportanceOrder::Confidence:
            return "confidence";
        case ImportanceOrder::KlDivergence:
            return "kl";
        case ImportanceOrder::GradientProxy:
            return "gradient";
    }
    return "accuracy";
}

std::vector<int> HeadImportanceReport::ranking() const {
    std::vector<int> order(heads.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return heads[std::size_t(a)].rank < heads[std::size_t(b)].rank;
    });
    return order;
}

HeadImportanceReport computeHeadImportance(Model& model,
                                           const std::vector<ImportanceSample>& samples,
                                           const HeadImportanceOptions& options,
                                           Progress& progress) {
    Prepared p = prepare(model, samples);
    const std::vector<Chunk> parts = chunks(p.pixels.size(0), options.batchSize);
    const std::int64_t n = p.pixels.size(0);
    HeadImportanceReport report;
    report.layers = p.layers;
    report.headsPerLayer = p.heads;
    report.inputs = int(n);
    report.labelledInputs = p.labelled;
    report.order = options.order;
    const double headCount = double(p.layers) * p.heads;
    const double gradientShare = options.gradientProxy ? 0.05 : 0.0;

    // 1. Unmasked passes: logits and the tokens entering every block (the cache).
    auto start = Clock::now();
    std::vector<std::vector<at::Tensor>> cache(parts.size());  // [chunk][layer]
    std::vector<at::Tensor> baseLogProbs(parts.size());
    std::vector<at::Tensor> labels(parts.size());
    double baseCorrect = 0.0, baseConfidence = 0.0;
    {
        c10::InferenceMode inference;
        for (std::size_t c = 0; c < parts.size(); ++c) {
            const at::Tensor x = p.vit->embedTokens(chunkPixels(p, parts[c]));
            const at::Tensor logits = p.vit->logitsFromLayer(x, 0, p.baseScales, &cache[c]);
            resolveLabels(p, logits, parts[c]);
            labels[c] = chunkLabels(p, parts[c]);
            baseLogProbs[c] = logits.log_softmax(1);
            baseCorrect += logits.argmax(1).eq(labels[c]).sum().item<double>();
            baseConfidence +=
                baseLogProbs[c].gather(1, labels[c].unsqueeze(1)).exp().sum().item<double>();
        }
    }
    report.baseAccuracy = baseCorrect / double(n);
    report.baseConfidence = baseConfidence / double(n);
    report.cacheSeconds = secondsSince(start);

    // 2. One head off at a time, restarting at its layer from the cache.
    start = Clock::now();
    report.heads.resize(std::size_t(headCount));
    {
        c10::InferenceMode inference;
        for (int l = 0; l < p.layers; ++l) {
            for (int h = 0; h < p.heads; ++h) {
                HeadImportance& row = report.heads[std::size_t(l * p.heads + h)];
                row.layer = l;
                row.head = h;
                const at::Tensor scales = maskedScales(p, {{l, h}});
                double correct = 0.0, confidence = 0.0, kl = 0.0;
                for (std::size_t c = 0; c < parts.size(); ++c) {
                    const at::Tensor logProbs =
                        p.vit->logitsFromLayer(cache[c][std::size_t(l)], l, scales).log_softmax(1);
                    correct += logProbs.argmax(1).eq(labels[c]).sum().item<double>();
                    const at::Tensor truth = labels[c].unsqueeze(1);
                    confidence +=
                        (logProbs.gather(1, truth).exp() - baseLogProbs[c].gather(1, truth).exp())
                            .sum()
                            .item<double>();
                    kl +=
                        (baseLogProbs[c].exp() * (baseLogProbs[c] - logProbs)).sum().item<double>();
                    report.blocksRun += std::int64_t(p.layers - l) * parts[c].size;
                    report.blocksWithoutCache += std::int64_t(p.layers) * parts[c].size;
                }
                row.maskedAccuracy = correct / double(n);
                row.accuracyDelta = row.maskedAccuracy - report.baseAccuracy;
                row.confidenceDelta = confidence / double(n);
                row.klDivergence = kl / double(n);
                const double done = double(l * p.heads + h + 1) / headCount;
                if (!progress.update(done * (1.0 - gradientShare), "masking heads"))
                    throw Cancelled();
            }
        }
    }
    report.maskingSeconds = secondsSince(start);

    // 3. Michel et al.'s proxy: |dL/d xi_h| per input at the current scales, averaged.
    if (options.gradientProxy) {
        start = Clock::now();
        at::Tensor total = at::zeros({p.layers, p.heads}, at::kDouble);
        for (std::size_t c = 0; c < parts.size(); ++c) {
            // One copy of the scales per input, so each input's gradient stays its own row.
            const at::Tensor scales = p.baseScales.unsqueeze(0)
                                          .expand({parts[c].size, p.layers, p.heads})
                                          .clone()
                                          .requires_grad_(true);
            const at::Tensor logits =
                p.vit->logitsFromLayer(p.vit->embedTokens(chunkPixels(p, parts[c])), 0, scales);
            // Fresh labels: the cached ones are inference tensors, which autograd cannot save.
            const at::Tensor loss =
                at::cross_entropy_loss(logits, chunkLabels(p, parts[c]), {}, at::Reduction::Sum);
            const at::Tensor grad = torch::autograd::grad({loss}, {scales})[0];
            total += grad.abs().sum(0).to(at::kCPU, at::kDouble);
            if (!progress.update(1.0 - gradientShare * (1.0 - double(c + 1) / double(parts.size())),
                                 "gradient proxy")) {
                throw Cancelled();
            }
        }
        total /= double(n);
        for (int l = 0; l < p.layers; ++l) {
            for (int h = 0; h < p.heads; ++h)
                report.heads[std::size_t(l * p.heads + h)].gradientProxy =
                    total[l][h].item<double>();
        }
        report.gradientSeconds = secondsSince(start);
    }

    rankHeads(report);
    return report;
}

void rankHeads(HeadImportanceReport& report) {
    std::vector<int> order(report.heads.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return lessImportant(report.heads[std::size_t(a)], report.heads[std::size_t(b)],
                             report.order);
    });
    for (std::size_t r = 0; r < order.size(); ++r)
        report.heads[std::size_t(order[r])].rank = int(r) + 1;
}

std::vector<std::vector<float>> logitsFromCachedLayer(Model& model,
                                                      const std::vector<ImportanceSample>& samples,
                                                      int layer, const HeadScales& scales) {
    Prepared p = prepare(model, samples);
    scales.checkShape(p.layers, p.heads, "head scales");
    if (layer < 0 || layer >= p.layers)
        throw Error("head scales", "layer " + std::to_string(layer) + " does not exist");
    const HeadScales base = model.headScales();
    for (int l = 0; l < layer && !scales.empty(); ++l) {
        for (int h = 0; h < p.heads; ++h) {
            if (scales.at(l, h) != base.at(l, h)) {
                throw Error("head scales", "change layer " + std::to_string(l) +
                                               ", below the restart layer " +
                                               std::to_string(layer));
            }
        }
    }
    const at::Tensor factors =
        scales.empty()
            ? p.baseScales
            : at::tensor(scales.values(), at::kFloat).reshape({p.layers, p.heads}).to(p.device);
    c10::InferenceMode inference;
    std::vector<std::vector<float>> out;
    for (const Chunk& chunk : chunks(p.pixels.size(0), 16)) {
        std::vector<at::Tensor> cache;
        p.vit->logitsFromLayer(p.vit->embedTokens(chunkPixels(p, chunk)), 0, p.baseScales, &cache);
        const at::Tensor logits = p.vit->logitsFromLayer(cache[std::size_t(layer)], layer, factors)
                                      .to(at::kCPU)
                                      .contiguous();
        for (std::int64_t i = 0; i < chunk.size; ++i) {
            const float* row = logits[i].data_ptr<float>();
            out.emplace_back(row, row + logits.size(1));
        }
    }
    return out;
}

MaskComparison compareMasking(Model& model, const std::vector<ImportanceSample>& samples,
                              const HeadImportanceReport& report, int count,
                              const MaskComparisonOptions& options, Progress& progress) {
    Prepared p = prepare(model, samples);
    const int total = p.layers * p.heads;
    if (report.layers != p.layers || report.headsPerLayer != p.heads ||
        int(report.heads.size()) != total) {
        throw Error("mask comparison",
                    "the importance report does not describe this model's heads");
    }
    if (count <= 0 || count > total) {
        throw Error("mask comparison", "K = " + std::to_string(count) +
                                           " must be between 1 and the " + std::to_string(total) +
                                           " heads");
    }
    if (options.randomDraws <= 0) throw Error("mask comparison", "random draws must be positive");
    const std::vector<Chunk> parts = chunks(p.pixels.size(0), options.batchSize);
    c10::InferenceMode inference;
    std::vector<at::Tensor> firstTokens(parts.size()), labels(parts.size());
    double baseCorrect = 0.0;
    for (std::size_t c = 0; c < parts.size(); ++c) {
        firstTokens[c] = p.vit->embedTokens(chunkPixels(p, parts[c]));
        const at::Tensor logits = p.vit->logitsFromLayer(firstTokens[c], 0, p.baseScales);
        resolveLabels(p, logits, parts[c]);
        labels[c] = chunkLabels(p, parts[c]);
        baseCorrect += logits.argmax(1).eq(labels[c]).sum().item<double>();
    }
    const double n = double(p.pixels.size(0));
    auto accuracyWithout = [&](const std::vector<std::pair<int, int>>& heads) {
        const at::Tensor scales = maskedScales(p, heads);
        double correct = 0.0;
        for (std::size_t c = 0; c < parts.size(); ++c) {
            correct += p.vit->logitsFromLayer(firstTokens[c], 0, scales)
                           .argmax(1)
                           .eq(labels[c])
                           .sum()
                           .item<double>();
        }
        return correct / n;
    };
    MaskComparison out;
    out.count = count;
    out.baseAccuracy = baseCorrect / n;
    const std::vector<int> ranked = report.ranking();
    for (int i = 0; i < count; ++i) {
        const HeadImportance& head = report.heads[std::size_t(ranked[std::size_t(i)])];
        out.topHeads.emplace_back(head.layer, head.head);
    }
    out.topAccuracy = accuracyWithout(out.topHeads);
    // K distinct heads uniformly at random: a partial Fisher-Yates shuffle on mt19937_64, whose
    // output the standard fixes, so the draws are the same everywhere.
    std::mt19937_64 random(options.seed);
    for (int d = 0; d < options.randomDraws; ++d) {
        std::vector<int> pool(static_cast<std::size_t>(total));
        std::iota(pool.begin(), pool.end(), 0);
        std::vector<std::pair<int, int>> heads;
        for (int i = 0; i < count; ++i) {
            const int j = i + int(random() % std::uint64_t(total - i));
            std::swap(pool[std::size_t(i)], pool[std::size_t(j)]);
            heads.emplace_back(pool[std::size_t(i)] / p.heads, pool[std::size_t(i)] % p.heads);
        }
        out.randomAccuracies.push_back(accuracyWithout(heads));
        if (!progress.update(double(d + 1) / options.randomDraws, "random masks"))
            throw Cancelled();
    }
    const double draws = double(out.randomAccuracies.size());
    out.randomMean =
        std::accumulate(out.randomAccuracies.begin(), out.randomAccuracies.end(), 0.0) / draws;
    double squares = 0.0;
    for (const double a : out.randomAccuracies)
        squares += (a - out.randomMean) * (a - out.randomMean);
    out.randomStd = draws > 1 ? std::sqrt(squares / (draws - 1)) : 0.0;
    out.randomMin = *std::min_element(out.randomAccuracies.begin(), out.randomAccuracies.end());
    out.randomMax = *std::max_element(out.randomAccuracies.begin(), out.randomAccuracies.end());
    return out;
}

std::string headImportanceCsv(const HeadImportanceReport& report) {
    std::ostringstream out;
    out << std::setprecision(8);
    out << "layer,head,rank,masked_accuracy,delta_accuracy,delta_confidence,kl,gradient_proxy\n";
    for (const int i : report.ranking()) {
        const HeadImportance& h = report.heads[std::size_t(i)];
        out << h.layer << ',' << h.head << ',' << h.rank << ',' << h.maskedAccuracy << ','
            << h.accuracyDelta << ',' << h.confidenceDelta << ',' << h.klDivergence << ','
            << h.gradientProxy << '\n';
    }
    return out.str();
}

std::string headImportanceMarkdown(const HeadImportanceReport& report, int rows) {
    std::ostringstream out;
    out << std::fixed;
    out << "| rank | layer | head | accuracy masked | delta accuracy | delta confidence | KL | "
           "gradient proxy |\n";
    out << "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const std::vector<int> ranked = report.ranking();
    for (int r = 0; r < std::min<int>(rows, int(ranked.size())); ++r) {
        const HeadImportance& h = report.heads[std::size_t(ranked[std::size_t(r)])];
        out << "| " << h.rank << " | " << h.layer << " | " << h.head << " | "
            << std::setprecision(3) << h.maskedAccuracy << " | " << std::showpos << h.accuracyDelta
            << " | " << h.confidenceDelta << std::noshowpos << " | " << std::setprecision(4)
            << h.klDivergence << " | " << h.gradientProxy << " |\n";
    }
    return out.str();
}

}  // namespace fovea
