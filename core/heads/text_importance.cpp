#include "core/heads/text_importance.h"

#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace fovea {

namespace {

// Softmax of the logits at each scored position, and the target (the next token).
struct ScoredRows {
    std::vector<std::vector<double>> probabilities;
    std::vector<std::int64_t> targets;
};

ScoredRows scoredRows(Model& model, const TextImportanceSample& sample) {
    const ModelOutputs out = model.runText(sample.input, CaptureRequest::nothing());
    const ModelSpec& spec = model.spec();
    if (out.positions <= 0 || out.positionLogits.empty()) {
        throw Error(spec.sourcePath,
                    spec.architecture +
                        " gives no next-token logits per position; head importance over text needs "
                        "a causal language model (GPT-2)");
    }
    const std::size_t width = out.positionLogits.size() / std::size_t(out.positions);
    std::vector<int> positions = sample.scored;
    if (positions.empty()) {
        for (int t = 0; t + 1 < out.positions; ++t) positions.push_back(t);
    }
    ScoredRows rows;
    for (const int t : positions) {
        if (t < 0 || t + 1 >= out.positions) {
            throw Error(sample.input.source.empty() ? "text importance" : sample.input.source,
                        "scored position " + std::to_string(t) + " is outside 0.." +
                            std::to_string(out.positions - 2));
        }
        const float* logits = out.positionLogits.data() + std::size_t(t) * width;
        const double top = *std::max_element(logits, logits + width);
        std::vector<double> p(width);
        double sum = 0.0;
        for (std::size_t c = 0; c < width; ++c) sum += p[c] = std::exp(double(logits[c]) - top);
        for (double& v : p) v /= sum;
        rows.probabilities.push_back(std::move(p));
        rows.targets.push_back(sample.input.ids[std::size_t(t) + 1]);
    }
    return rows;
}

// Top-1 hits and the summed probability of the true next token over scored rows.
struct Tally {
    double hits = 0.0, kept = 0.0;
    void add(const std::vector<double>& p, std::int64_t target) {
        const auto t = std::size_t(target);
        hits += std::size_t(std::max_element(p.begin(), p.end()) - p.begin()) == t ? 1.0 : 0.0;
        kept += t < p.size() ? p[t] : 0.0;
    }
};

}  // namespace

HeadImportanceReport computeTextHeadImportance(Model& model,
                                               const std::vector<TextImportanceSample>& samples,
                                               ImportanceOrder order, Progress& progress) {
    const ModelSpec& spec = model.spec();
    if (samples.empty())
        throw Error(spec.sourcePath, "head importance needs at least one token sequence");
    if (spec.task != "causal-lm") {
        throw Error(spec.sourcePath,
                    "head importance over text needs a causal language model (GPT-2), not " +
                        (spec.task.empty() ? spec.architecture : spec.task));
    }
    if (order == ImportanceOrder::GradientProxy)
        throw Error(spec.sourcePath, "the gradient proxy is not computed for text models");
    const int layers = spec.depth, heads = spec.numHeads;
    const HeadScales original = model.headScales();
    const HeadScales start = original.empty() ? HeadScales::identity(layers, heads) : original;
    const auto clock = std::chrono::steady_clock::now();

    std::vector<ScoredRows> base;
    HeadImportanceReport report;
    report.layers = layers;
    report.headsPerLayer = heads;
    report.inputs = int(samples.size());
    report.labelledInputs = report.inputs;  // the next tokens are the labels
    report.order = order;
    double positions = 0.0;
    Tally unmasked;
    for (const TextImportanceSample& sample : samples) {
        base.push_back(scoredRows(model, sample));
        const ScoredRows& rows = base.back();
        for (std::size_t i = 0; i < rows.targets.size(); ++i)
            unmasked.add(rows.probabilities[i], rows.targets[i]);
        positions += double(rows.targets.size());
    }
    if (positions == 0.0)
        throw Error(spec.sourcePath,
                    "no scored positions (every sequence needs at least two tokens)");
    report.baseAccuracy = unmasked.hits / positions;
    report.baseConfidence = unmasked.kept / positions;
    report.cacheSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();

    const auto masking = std::chrono::steady_clock::now();
    try {
        for (int l = 0; l < layers; ++l) {
            for (int h = 0; h < heads; ++h) {
                HeadScales scales = start;
                scales.set(l, h, 0.0f);
                model.setHeadScales(scales);
                Tally tally;
                double kl = 0.0;
                for (std::size_t s = 0; s < samples.size(); ++s) {
                    const ScoredRows masked = scoredRows(model, samples[s]);
                    for (std::size_t i = 0; i < masked.targets.size(); ++i) {
                        const std::vector<double>& p = base[s].probabilities[i];
                        const std::vector<double>& q = masked.probabilities[i];
                        tally.add(q, masked.targets[i]);
                        for (std::size_t c = 0; c < p.size(); ++c) {
                            if (p[c] > 0.0)
                                kl += p[c] * (std::log(p[c]) - std::log(std::max(q[c], 1e-300)));
                        }
                    }
                }
                HeadImportance entry;
                entry.layer = l;
                entry.head = h;
                entry.maskedAccuracy = tally.hits / positions;
                entry.accuracyDelta = entry.maskedAccuracy - report.baseAccuracy;
                entry.confidenceDelta = tally.kept / positions - report.baseConfidence;
                entry.klDivergence = kl / positions;
                report.heads.push_back(entry);
                report.blocksRun += std::int64_t(samples.size()) * layers;
                if (!progress.update(double(l * heads + h + 1) / (layers * heads), "masking heads"))
                    throw Cancelled();
            }
        }
    } catch (...) {
        model.setHeadScales(original);
        throw;
    }
    model.setHeadScales(original);
    report.blocksWithoutCache = report.blocksRun;
    report.maskingSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - masking).count();
    rankHeads(report);
    return report;
}

}  // namespace fovea
