#include "app/commands/bench_gui_text.h"

#include "core/model/attention_stack.h"
#include "widgets/token_matrix_view.h"
#include "widgets/token_style.h"

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace fovea::cli {
namespace {

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t rank =
        std::size_t(std::max(1.0, std::ceil(p / 100.0 * double(values.size()))));
    return values[rank - 1];
}

// Causal softmax rows of random logits, one head, float32: what a GPT-2 layer's head looks like
// to the view (every row sums to 1 over keys 0..q).
AttentionStack randomCausalStack(int tokens, unsigned seed) {
    AttentionStack stack;
    std::vector<TokenInfo> infos(static_cast<std::size_t>(tokens));
    for (int t = 0; t < tokens; ++t) {
        infos[std::size_t(t)].kind = TokenKind::Text;
        infos[std::size_t(t)].text = " tok" + std::to_string(t);
    }
    stack.tokens = TokenLayout::forText(std::move(infos));
    stack.modelLayers = 1;
    stack.modelHeads = 1;
    stack.causal = true;
    AttentionLayer layer;
    layer.layer = 0;
    layer.heads = {0};
    layer.tokens = tokens;
    layer.precision = AttentionPrecision::Float32;
    layer.floatValues.assign(std::size_t(tokens) * std::size_t(tokens), 0.0f);
    std::mt19937 random(seed);
    std::normal_distribution<float> logit(0.0f, 2.0f);
    for (int q = 0; q < tokens; ++q) {
        float* row = layer.floatValues.data() + std::size_t(q) * std::size_t(tokens);
        float sum = 0.0f;
        for (int k = 0; k <= q; ++k) sum += row[k] = std::exp(logit(random));
        for (int k = 0; k <= q; ++k) row[k] /= sum;
    }
    stack.layers.push_back(std::move(layer));
    return stack;
}

}  // namespace

void runTokenMatrixBench(int tokens, int repaints, const QString& screenshot) {
    const AttentionStack stack = randomCausalStack(tokens, 7);
    QElapsedTimer clock;
    clock.start();
    TokenMatrixPainter painter;
    painter.setMatrix(tokenMatrix(stack, 0, {}), tokenLabels(stack.tokens));
    painter.setTitle(QStringLiteral("random causal attention, %1 tokens").arg(tokens));
    const double prepareMs = double(clock.nsecsElapsed()) / 1e6;

    TokenMatrixView view;
    view.resize(1000, 820);
    view.setPainter(painter);
    view.show();
    QImage target(view.size(), QImage::Format_RGB32);
    clock.restart();
    view.render(&target);
    const double firstMs = double(clock.nsecsElapsed()) / 1e6;
    if (!screenshot.isEmpty() && !target.save(screenshot)) {
        std::fprintf(stderr, "fovea: %s: cannot write the screenshot\n", qPrintable(screenshot));
    }

    // Zoom in and out at random points, pan, and hover, as a user exploring the matrix does;
    // each change is followed by a full repaint of the view.
    std::mt19937 random(11);
    const QRectF plot = painter.layout(view.figureRect()).plot;
    std::uniform_real_distribution<double> x(plot.left(), plot.right()),
        y(plot.top(), plot.bottom());
    std::uniform_real_distribution<double> shift(-120.0, 120.0);
    std::vector<double> repaintMs, referenceMs, hoverMs, zoomPanMs;
    int zoomLevel = 0;
    for (int i = 0; i < repaints; ++i) {
        const int action = i % 4;
        clock.restart();
        if (action == 0) {
            // In (up to 5 steps), then back out.
            const bool in = zoomLevel < 5 && (random() % 3 != 0 || zoomLevel == 0);
            view.zoomAt(QPointF(x(random), y(random)), in ? 1.6 : 1 / 1.6);
            zoomLevel += in ? 1 : -1;
        } else if (action == 1) {
            view.panBy(QPointF(shift(random), shift(random)));
        } else {
            view.hoverAt(QPointF(x(random), y(random)));
        }
        view.render(&target);
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        repaintMs.push_back(ms);
        (action <= 1 ? zoomPanMs : hoverMs).push_back(ms);

        QImage canvas(view.size(), QImage::Format_RGB32);
        QElapsedTimer bare;
        bare.start();
        {
            QPainter p(&canvas);
            p.fillRect(canvas.rect(), Qt::white);
            p.drawImage(plot, target);
        }
        referenceMs.push_back(double(bare.nsecsElapsed()) / 1e6);
    }
    const double p95 = percentile(repaintMs, 95);
    std::printf(
        "fovea bench gui: token matrix, %d tokens (random causal attention), %d repaints at %dx%d "
        "(platform %s)\n",
        tokens, repaints, view.width(), view.height(), qPrintable(QGuiApplication::platformName()));
    std::printf("  matrix prepared (mean of heads, max-pool pyramid): %.1f ms\n", prepareMs);
    std::printf("  first paint:                                %.2f ms\n", firstMs);
    std::printf(
        "  repaint after zoom/pan/hover:               p50 %.2f ms  p95 %.2f ms  (goal p95 <= 33 "
        "ms: %s)\n",
        percentile(repaintMs, 50), p95, p95 <= 33.0 ? "met" : "MISSED");
    std::printf("    after zoom or pan (cells re-rendered):    p50 %.2f ms  p95 %.2f ms\n",
                percentile(zoomPanMs, 50), percentile(zoomPanMs, 95));
    std::printf("    after hover (cached cells):               p50 %.2f ms  p95 %.2f ms\n",
                percentile(hoverMs, 50), percentile(hoverMs, 95));
    std::printf("  reference, bare QPainter drawImage:         p50 %.2f ms  p95 %.2f ms\n",
                percentile(referenceMs, 50), percentile(referenceMs, 95));
    std::printf("  ratio repaint / reference (p50):            %.2fx\n",
                percentile(repaintMs, 50) / std::max(1e-6, percentile(referenceMs, 50)));
    std::printf("  cell images rendered: %d of %d repaints\n", view.renderCount(), repaints + 1);
}

}  // namespace fovea::cli
