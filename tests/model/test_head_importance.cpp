// Head importance on the shipped shapes-vit model: the cached restart path against full masked
// passes, every metric against a brute-force computation through Model::setHeadScales, the
// gradient proxy against central finite differences, and the pruning check of issue 5 (masking
// the top-ranked heads hurts accuracy more than masking as many random heads).
#include "core/data/shapes_scene.h"
#include "core/heads/importance.h"
#include "core/model/registry.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace fovea;

namespace {

const std::string kShapesVit = FOVEA_SOURCE_DIR "/resources/models/shapes-vit";

std::vector<ImportanceSample> scenes(const ModelSpec& spec, int count,
                                     std::uint64_t firstSeed = 1000000000ULL + 700000) {
    SceneOptions options;
    options.size = spec.imageHeight;
    std::vector<ImportanceSample> samples;
    for (int i = 0; i < count; ++i) {
        const Scene scene = generateScene(firstSeed + std::uint64_t(i), options);
        samples.push_back({makeImageInput(scene.image, spec, "scene"), scene.label});
    }
    return samples;
}

std::vector<double> softmax(const std::vector<float>& logits) {
    double top = -INFINITY;
    for (const float v : logits) top = std::max(top, double(v));
    std::vector<double> p(logits.size());
    double sum = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i)
        sum += (p[i] = std::exp(double(logits[i]) - top));
    for (double& v : p) v /= sum;
    return p;
}

int argmax(const std::vector<float>& logits) {
    return int(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST(HeadImportance, CachedRestartGivesTheLogitsOfAFullMaskedPass) {
    const std::unique_ptr<Model> model = openModel(kShapesVit);
    const ModelSpec& spec = model->spec();
    const std::vector<ImportanceSample> samples = scenes(spec, 6);
    float worst = 0.0f;
    for (const auto& heads : std::vector<std::vector<std::pair<int, int>>>{
             {{0, 0}}, {{1, 3}}, {{3, 2}}, {{2, 0}, {2, 1}, {3, 3}}}) {
        HeadScales scales = HeadScales::identity(spec.depth, spec.numHeads);
        for (const auto& [layer, head] : heads) scales.set(layer, head, 0.0f);
        const std::vector<std::vector<float>> cached =
            logitsFromCachedLayer(*model, samples, heads.front().first, scales);
        model->setHeadScales(scales);
        ASSERT_EQ(cached.size(), samples.size());
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const std::vector<float> full =
                model->run(samples[i].image, CaptureRequest::nothing()).logits;
            ASSERT_EQ(full.size(), cached[i].size());
            for (std::size_t c = 0; c < full.size(); ++c)
                worst = std::max(worst, std::fabs(full[c] - cached[i][c]));
        }
        model->resetHeadScales();
    }
    std::printf("[ match ] cached restart vs full masked pass: max abs logit error %.3g\n",
                double(worst));
    EXPECT_LT(worst, 1e-5f);
    // A restart must not skip a changed head below it.
    HeadScales below = HeadScales::identity(spec.depth, spec.numHeads);
    below.set(0, 1, 0.0f);
    EXPECT_THROW((void)logitsFromCachedLayer(*model, samples, 1, below), Error);
}

TEST(HeadImportance, MetricsMatchBruteForceAndTheGradientProxyMatchesFiniteDifferences) {
    const std::unique_ptr<Model> model = openModel(kShapesVit);
    const ModelSpec& spec = model->spec();
    std::vector<ImportanceSample> samples = scenes(spec, 20);
    samples[3].label = -1;  // unlabelled: the unmasked prediction stands in
    HeadImportanceOptions options;
    options.batchSize = 7;  // chunks of uneven size
    NullProgress progress;
    const HeadImportanceReport report = computeHeadImportance(*model, samples, options, progress);
    ASSERT_EQ(report.heads.size(), std::size_t(spec.depth * spec.numHeads));
    EXPECT_EQ(report.labelledInputs, 19);
    EXPECT_EQ(report.blocksWithoutCache,
              std::int64_t(spec.depth) * spec.depth * spec.numHeads * 20);
    EXPECT_EQ(report.blocksRun, std::int64_t(spec.numHeads) * 20 * (4 + 3 + 2 + 1));

    // Brute force: full passes, one input at a time, the head switched off through the Model API.
    std::vector<std::vector<double>> base;
    std::vector<int> labels;
    double baseCorrect = 0.0;
    for (const ImportanceSample& s : samples) {
        const std::vector<float> logits = model->run(s.image, CaptureRequest::nothing()).logits;
        base.push_back(softmax(logits));
        labels.push_back(s.label >= 0 ? s.label : argmax(logits));
        baseCorrect += argmax(logits) == labels.back();
    }
    EXPECT_NEAR(report.baseAccuracy, baseCorrect / 20.0, 1e-12);
    const double n = double(samples.size());
    for (const auto& [layer, head] : std::vector<std::pair<int, int>>{{0, 2}, {2, 1}, {3, 3}}) {
        HeadScales scales = HeadScales::identity(spec.depth, spec.numHeads);
        scales.set(layer, head, 0.0f);
        model->setHeadScales(scales);
        double correct = 0.0, confidence = 0.0, kl = 0.0;
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const std::vector<float> logits =
                model->run(samples[i].image, CaptureRequest::nothing()).logits;
            const std::vector<double> p = softmax(logits);
            correct += argmax(logits) == labels[i];
            confidence += p[std::size_t(labels[i])] - base[i][std::size_t(labels[i])];
            for (std::size_t c = 0; c < p.size(); ++c)
                kl += base[i][c] * std::log(base[i][c] / p[c]);
        }
        model->resetHeadScales();
        const HeadImportance& row = report.heads[std::size_t(layer * spec.numHeads + head)];
        EXPECT_EQ(row.layer, layer);
        EXPECT_EQ(row.head, head);
        EXPECT_NEAR(row.maskedAccuracy, correct / n, 1e-12);
        EXPECT_NEAR(row.accuracyDelta, correct / n - report.baseAccuracy, 1e-12);
        EXPECT_NEAR(row.confidenceDelta, confidence / n, 1e-5);
        EXPECT_NEAR(row.klDivergence, kl / n, 1e-5 + 1e-3 * kl / n);

        // Michel et al.'s proxy, mean_i |dL_i / d xi|, by central differences of the cross-entropy.
        const float step = 1e-2f;
        double proxy = 0.0;
        std::vector<double> lossPlus(samples.size()), lossMinus(samples.size());
        for (const float sign : {1.0f, -1.0f}) {
            HeadScales moved = HeadScales::identity(spec.depth, spec.numHeads);
            moved.set(layer, head, 1.0f + sign * step);
            model->setHeadScales(moved);
            for (std::size_t i = 0; i < samples.size(); ++i) {
                const std::vector<double> p =
                    softmax(model->run(samples[i].image, CaptureRequest::nothing()).logits);
                (sign > 0 ? lossPlus : lossMinus)[i] = -std::log(p[std::size_t(labels[i])]);
            }
        }
        model->resetHeadScales();
        for (std::size_t i = 0; i < samples.size(); ++i)
            proxy += std::fabs(lossPlus[i] - lossMinus[i]) / (2.0 * step) / n;
        EXPECT_NEAR(row.gradientProxy, proxy, 2e-3 + 0.02 * proxy)
            << "layer " << layer << " head " << head;
        EXPECT_GT(row.gradientProxy, 0.0);
    }

    // Ranks are a permutation and follow the accuracy order (ties by confidence).
    const std::vector<int> ranked = report.ranking();
    for (std::size_t r = 0; r < ranked.size(); ++r) {
        EXPECT_EQ(report.heads[std::size_t(ranked[r])].rank, int(r) + 1);
        if (r > 0) {
            const HeadImportance& a = report.heads[std::size_t(ranked[r - 1])];
            const HeadImportance& b = report.heads[std::size_t(ranked[r])];
            EXPECT_LE(a.accuracyDelta, b.accuracyDelta);
            if (a.accuracyDelta == b.accuracyDelta) {
                EXPECT_LE(a.confidenceDelta, b.confidenceDelta);
            }
        }
    }
}

TEST(HeadImportance, MaskingTheTopRankedHeadsHurtsMoreThanRandomHeads) {
    const std::unique_ptr<Model> model = openModel(kShapesVit);
    // Rank on one set of scenes, compare on another, so the check is not circular.
    const std::vector<ImportanceSample> ranking = scenes(model->spec(), 60, 1000000000ULL + 800000);
    const std::vector<ImportanceSample> held = scenes(model->spec(), 60, 1000000000ULL + 900000);
    NullProgress progress;
    HeadImportanceOptions options;
    options.gradientProxy = false;
    const HeadImportanceReport report = computeHeadImportance(*model, ranking, options, progress);
    MaskComparisonOptions comparison;
    comparison.randomDraws = 10;
    for (const int k : {1, 3}) {
        const MaskComparison c = compareMasking(*model, held, report, k, comparison, progress);
        std::printf("[ masking ] K=%d: base %.3f, top-K %.3f, random %.3f +- %.3f (%.3f .. %.3f)\n",
                    k, c.baseAccuracy, c.topAccuracy, c.randomMean, c.randomStd, c.randomMin,
                    c.randomMax);
        ASSERT_EQ(c.randomAccuracies.size(), 10u);
        EXPECT_EQ(int(c.topHeads.size()), k);
        EXPECT_LT(c.topAccuracy, c.randomMean - 0.05) << "K = " << k;
    }
}

TEST(HeadImportance, BadInputsAreClearErrors) {
    const std::unique_ptr<Model> model = openModel(kShapesVit);
    NullProgress progress;
    EXPECT_THROW((void)computeHeadImportance(*model, {}, {}, progress), Error);
    std::vector<ImportanceSample> samples = scenes(model->spec(), 2);
    samples[1].label = 7;
    try {
        (void)computeHeadImportance(*model, samples, {}, progress);
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("label 7 is not a class of the model (5 classes)"),
                  std::string::npos);
    }
    samples[1].label = 1;
    samples[1].image.height = samples[1].image.width = 72;
    samples[1].image.pixels.assign(3 * 72 * 72, 0.0f);
    try {
        (void)computeHeadImportance(*model, samples, {}, progress);
        FAIL() << "expected an error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("head importance needs one size"),
                  std::string::npos)
            << error.what();
    }
    EXPECT_THROW((void)importanceOrderFromName("loss"), Error);
}

}  // namespace
