// The token views (head view, token matrix, text saliency, token atlas) on planted attention
// whose strongest entries are known by construction, and the Text page of the workbench driven
// like a user with the tiny GPT-2 and BERT fixtures. Pixels of rendered images are sampled where
// the planted pattern must (and must not) show.
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/session/session.h"
#include "core/tokenize/text_encode.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"
#include "widgets/figure_export.h"
#include "widgets/heads_controller.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"
#include "widgets/text_controller.h"
#include "widgets/text_saliency_view.h"
#include "widgets/token_atlas_view.h"
#include "widgets/token_head_view.h"
#include "widgets/token_matrix_view.h"
#include "widgets/token_style.h"

#include <QFile>
#include <QImage>
#include <QPainter>
#include <QProcess>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>
#include <random>
#include <set>

using namespace fovea;

namespace {

const QString kGpt2 = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/hf-gpt2-tiny");
const QString kGpt2Tokenizer = QStringLiteral(FOVEA_TEST_DATA_DIR "/tokenizers/gpt2-tiny-64");
const QString kBert = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/hf-bert-tiny");
const QString kBertTokenizer = QStringLiteral(FOVEA_TEST_DATA_DIR "/tokenizers/bert-tiny-60");

// One layer, two heads over `n` text tokens, causal. Head 0 is a previous-token head (0.8 on
// key q-1, 0.2 on q itself; the first row all on itself); head 1 a first-token head (all on key 0).
std::shared_ptr<AttentionStack> plantedStack(int n) {
    auto stack = std::make_shared<AttentionStack>();
    std::vector<TokenInfo> tokens(static_cast<std::size_t>(n));
    for (int t = 0; t < n; ++t) {
        tokens[std::size_t(t)].kind = TokenKind::Text;
        tokens[std::size_t(t)].text = "w" + std::to_string(t);
    }
    stack->tokens = TokenLayout::forText(std::move(tokens));
    stack->modelLayers = 1;
    stack->modelHeads = 2;
    stack->causal = true;
    AttentionLayer layer;
    layer.layer = 0;
    layer.heads = {0, 1};
    layer.tokens = n;
    layer.precision = AttentionPrecision::Float32;
    layer.floatValues.assign(std::size_t(2) * std::size_t(n) * std::size_t(n), 0.0f);
    auto at = [&](int head, int q, int k) -> float& {
        return layer
            .floatValues[(std::size_t(head) * std::size_t(n) + std::size_t(q)) * std::size_t(n) +
                         std::size_t(k)];
    };
    for (int q = 0; q < n; ++q) {
        if (q == 0) {
            at(0, 0, 0) = 1.0f;
        } else {
            at(0, q, q - 1) = 0.8f;
            at(0, q, q) = 0.2f;
        }
        at(1, q, 0) = 1.0f;
    }
    stack->layers.push_back(std::move(layer));
    return stack;
}

// The colour the views give `value` on a scale 0..high (viridis).
QRgb scaleColor(float value, float high) {
    return colormapTable("viridis")[std::clamp(int(value * 256.0f / high), 0, 255)];
}

// How far a pixel is from white (0: white, 765: black).
int inkAt(const QImage& image, QPointF point) {
    const QColor c = image.pixelColor(point.toPoint());
    return 765 - c.red() - c.green() - c.blue();
}

// Equal to 8 bits per channel, give or take one step of rounding.
bool sameColor(const QColor& a, const QColor& b) {
    return std::abs(a.red() - b.red()) <= 1 && std::abs(a.green() - b.green()) <= 1 &&
           std::abs(a.blue() - b.blue()) <= 1;
}

QImage renderPainting(const std::function<void(QPainter&, const QRectF&)>& paint, QSizeF size) {
    QImage image(size.toSize(), QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    paint(painter, QRectF(QPointF(0, 0), size));
    painter.end();
    return image;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

bool waitIdle(MainWindow& window, int milliseconds = 120000) {
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < milliseconds) {
        QTest::qWait(20);
        if (!window.jobs()->busy()) {
            QTest::qWait(20);
            if (!window.jobs()->busy()) return true;
        }
    }
    return false;
}

}  // namespace

class TestTokenViews : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void headViewDrawsThePlantedLines();
    void headViewHoverFocusesAToken();
    void matrixViewColoursPlantedCellsAndGreysMasked();
    void matrixViewAt1024TokensKeepsPeaksAndRendersOnlyOnZoom();
    void saliencyViewColoursTheTopToken();
    void atlasThumbnailsShowTheirPatterns();
    void exportsAreValidSvgWithTheTokens();
    void textSettingsRoundTrip();
    void gpt2TextThroughTheWindowProducesAttention();
    void overflowTruncatesWithNoticeOrRefuses();
    void bertPairThroughTheWindow();
    void screenshotCommandShowsTheTextViews();
    void inductionHeadsFromTypedTextAndSwitchedOff();
};

void TestTokenViews::headViewDrawsThePlantedLines() {
    const auto stack = plantedStack(12);
    TokenHeadPainter painter;
    painter.setAttention(stack, 0, {0});  // the previous-token head only
    const QSizeF size = painter.preferredSize();
    const QRectF target(QPointF(0, 0), size);
    const QImage image =
        renderPainting([&](QPainter& p, const QRectF& r) { painter.paint(p, r); }, size);
    // The midpoint of q -> k is shared only by pairs with the same q + k; for q + k = 9 the only
    // unmasked, non-zero one is the planted 5 -> 4 (4 -> 5 is in the causal future).
    const int planted = inkAt(image, painter.linkLine(target, 5, 4).center());
    const int self = inkAt(image, painter.linkLine(target, 5, 5).center());  // weight 0.2
    QVERIFY2(planted > 150, qPrintable(QString::number(planted)));
    QVERIFY2(planted > self + 60, qPrintable(QStringLiteral("%1 vs %2").arg(planted).arg(self)));
    QVERIFY(self > 10);
    // The colour is head 0's.
    const QColor c = image.pixelColor(painter.linkLine(target, 5, 4).center().toPoint());
    const QColor head = headColor(0);
    QVERIFY(std::abs(c.hue() - head.hue()) < 20);

    // Head 1 (first-token): the line 9 -> 0 is drawn at full weight, 9 -> 8 not at all.
    TokenHeadPainter first;
    first.setAttention(stack, 0, {1});
    const QImage firstImage =
        renderPainting([&](QPainter& p, const QRectF& r) { first.paint(p, r); }, size);
    const QLineF toFirst = first.linkLine(target, 9, 0);
    QVERIFY(inkAt(firstImage, toFirst.pointAt(0.9)) > 150);
    QCOMPARE(inkAt(firstImage, first.linkLine(target, 9, 8).pointAt(0.5)), 0);
}

void TestTokenViews::headViewHoverFocusesAToken() {
    const auto stack = plantedStack(12);
    TokenHeadView view;
    TokenHeadPainter painter;
    painter.setAttention(stack, 0, {});
    view.setPainter(painter);
    view.resize(500, int(painter.preferredSize().height()));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy hovered(&view, &TokenHeadView::tokenHovered);
    const QRectF label = view.painter().labelRect(view.figureRect(), TokenSide::Query, 2);
    QTest::mouseMove(&view, label.center().toPoint());
    QTRY_COMPARE(hovered.count(), 1);
    QCOMPARE(hovered.last().at(0).toInt(), 0);  // query side
    QCOMPARE(hovered.last().at(1).toInt(), 2);
    QVERIFY(view.painter().focus().has_value());
    // With query 2 focused only its lines are drawn: 5 -> 4 disappears, 2 -> 1 stays.
    const QImage focused = view.grab().toImage();
    const QRectF r = view.figureRect();
    const qreal ratio = focused.devicePixelRatio();
    auto ink = [&](QPointF p) { return inkAt(focused, p * ratio); };
    QVERIFY(ink(view.painter().linkLine(r, 2, 1).center()) > 120);
    QCOMPARE(ink(view.painter().linkLine(r, 5, 4).center()), 0);
    // A key: the queries that look at key 0 (head 1 everywhere, head 0 from query 1).
    QTest::mouseMove(&view, view.painter().labelRect(r, TokenSide::Key, 0).center().toPoint());
    QTRY_COMPARE(hovered.last().at(0).toInt(), 1);
    QCOMPARE(hovered.last().at(1).toInt(), 0);
}

void TestTokenViews::matrixViewColoursPlantedCellsAndGreysMasked() {
    const auto stack = plantedStack(12);
    TokenMatrixPainter painter;
    painter.setMatrix(tokenMatrix(*stack, 0, {0}), tokenLabels(stack->tokens));
    const QVector<QRgb> table = colormapTable("viridis");
    // 10 pixels per cell: pixel (10k + 5, 10q + 5) is cell (q, k).
    const QImage cells = painter.renderCells(QSize(120, 120), QRectF(0, 0, 12, 12));
    auto cell = [&](int q, int k) { return cells.pixel(10 * k + 5, 10 * q + 5) | 0xFF000000u; };
    QCOMPARE(cell(5, 4),
             scaleColor(0.8f, 1.0f));  // planted 0.8; the top of the scale is (0, 0) = 1
    QCOMPARE(cell(5, 2), table[0]);    // seen, zero
    QCOMPARE(cell(2, 5), kMaskedRgb);  // the causal future: grey, not the colour of zero
    QVERIFY(table[0] != kMaskedRgb);
    // The strongest cell of each row is where it was planted.
    for (int q = 1; q < 12; ++q) {
        int best = -1;
        int bestInk = -1;
        for (int k = 0; k <= q; ++k) {
            const QColor c = QColor::fromRgb(cell(q, k));
            const int light =
                c.red() + c.green() + c.blue();  // viridis grows lighter with the value
            if (light > bestInk) {
                bestInk = light;
                best = k;
            }
        }
        QCOMPARE(best, q - 1);
    }
    // Mean of both heads: (5, 0) = 0.5, (5, 4) = 0.4.
    const TokenMatrix mean = tokenMatrix(*stack, 0, {});
    QCOMPARE(mean.values[5 * 12 + 0], 0.5f);
    QCOMPARE(mean.values[5 * 12 + 4], 0.4f);
    QVERIFY(mean.mask[2 * 12 + 5] == 1 && mean.mask[5 * 12 + 2] == 0);
}

void TestTokenViews::matrixViewAt1024TokensKeepsPeaksAndRendersOnlyOnZoom() {
    const int n = 1024;
    const auto stack = plantedStack(n);
    TokenMatrixPainter painter;
    painter.setMatrix(tokenMatrix(*stack, 0, {0}), tokenLabels(stack->tokens));
    TokenMatrixView view;
    view.resize(900, 800);
    view.setPainter(painter);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QImage image(view.size(), QImage::Format_RGB32);
    view.render(&image);
    QCOMPARE(view.renderCount(), 1);
    // 1,024 cells into ~600 pixels: max-pooling keeps the thin previous-token diagonal at full
    // colour (an average would dilute it to about half).
    const QRectF plot = painter.layout(view.figureRect()).plot;
    const QVector<QRgb> table = colormapTable("viridis");
    int diagonalPeaks = 0, samples = 0;
    for (int i = 40; i < n - 40; i += 37) {
        const QRectF c = view.painter().cellRect(view.figureRect(), view.visibleCells(), i, i - 1);
        samples++;
        if ((image.pixel(c.center().toPoint()) | 0xFF000000u) == scaleColor(0.8f, 1.0f))
            diagonalPeaks++;
    }
    QVERIFY2(diagonalPeaks >= samples - 1,
             qPrintable(QStringLiteral("%1 of %2").arg(diagonalPeaks).arg(samples)));
    // Far above the diagonal: masked grey; far below it: zero.
    QCOMPARE(image.pixel((plot.topRight() + QPointF(-20, 20)).toPoint()) | 0xFF000000u, kMaskedRgb);
    QCOMPARE(image.pixel((plot.bottomLeft() + QPointF(40, -20)).toPoint()) | 0xFF000000u, table[0]);

    // Hover: the cell under the cursor, and no new cell image.
    QSignalSpy hovered(&view, &TokenMatrixView::cellHovered);
    const QRectF target = view.painter().cellRect(view.figureRect(), view.visibleCells(), 700, 699);
    view.hoverAt(target.center());
    QCOMPARE(hovered.count(), 1);
    QCOMPARE(view.hovered()->query, 700);
    QVERIFY(std::abs(view.hovered()->key - 699) <= 1);
    view.render(&image);
    QCOMPARE(view.renderCount(), 1);

    // Zoom in 16x: a 64-cell window; the planted cell is one colour block of ~9 px.
    view.hoverAt(QPointF(-5, -5));  // no hover lines over the cells sampled below
    QVERIFY(!view.hovered());
    view.zoomAt(target.center(), 16.0);
    QVERIFY(std::abs(view.visibleCells().width() - 64.0) < 1e-6);
    view.render(&image);
    QCOMPARE(view.renderCount(), 2);
    const QRectF zoomed = view.painter().cellRect(view.figureRect(), view.visibleCells(), 700, 699);
    QVERIFY(zoomed.width() > 8);
    QCOMPARE(image.pixel(zoomed.center().toPoint()) | 0xFF000000u, scaleColor(0.8f, 1.0f));
    const QRectF masked = view.painter().cellRect(view.figureRect(), view.visibleCells(), 700, 702);
    QCOMPARE(image.pixel(masked.center().toPoint()) | 0xFF000000u, kMaskedRgb);
    view.panBy(QPointF(50, 0));
    QVERIFY(view.visibleCells().left() < 700 - 32);
}

void TestTokenViews::saliencyViewColoursTheTopToken() {
    const Tokenizer tokenizer = loadTokenizer(kGpt2Tokenizer.toStdString());
    const std::string text = "the cat sat on the mat.";
    const Encoding encoding = tokenizer.encode(text);
    const TokenLayout tokens = tokenLayoutFor(encoding);
    int mat = -1;
    for (int t = 0; t < tokens.size(); ++t) {
        if (tokens[t].text == " mat") mat = t;
    }
    QVERIFY(mat > 0);
    std::vector<float> scores(std::size_t(tokens.size()), 0.1f);
    scores[std::size_t(mat)] = 1.0f;
    scores[0] = -0.5f;
    TextSaliencyPainter painter;
    painter.setContent(text, "", tokens, scores);
    const QSizeF size = painter.preferredSize();
    const QRectF target(QPointF(0, 0), size);
    const QImage image =
        renderPainting([&](QPainter& p, const QRectF& r) { painter.paint(p, r); }, size);
    // The background of " mat" (left edge, above the glyphs) has the top score's colour: the
    // reddest of all, and token 0 (negative) is blue.
    const QRectF box = painter.tokenRect(target, mat);
    QVERIFY(!box.isEmpty());
    const QColor top = image.pixelColor((box.topLeft() + QPointF(1, 3)).toPoint());
    QVERIFY(sameColor(top, painter.colorOf(1.0f)));
    QVERIFY(top.red() > 200 && top.green() < 80);
    const QColor other =
        image.pixelColor((painter.tokenRect(target, 2).topLeft() + QPointF(1, 3)).toPoint());
    QVERIFY(sameColor(other, painter.colorOf(0.1f)));
    QVERIFY(other.green() > top.green() + 100);
    const QColor negative =
        image.pixelColor((painter.tokenRect(target, 0).topLeft() + QPointF(1, 3)).toPoint());
    QVERIFY(negative.blue() > negative.red() + 40);
    // Tokens appear in text order, left to right on one line.
    QVERIFY(painter.tokenRect(target, mat).left() > painter.tokenRect(target, 1).left());
    QCOMPARE(painter.tokenAt(target, box.center()).value_or(-1), mat);
}

void TestTokenViews::atlasThumbnailsShowTheirPatterns() {
    const auto stack = plantedStack(16);
    const TokenAtlasPainter atlas = buildTokenAtlas(*stack, 64, "viridis");
    QCOMPARE(atlas.layers(), 1);
    QCOMPARE(atlas.heads(), 2);
    const QImage previous = atlas.thumbnail(0, 0);
    const QImage first = atlas.thumbnail(0, 1);
    QCOMPARE(previous.width(), 16);
    const QVector<QRgb> table = colormapTable("viridis");
    QCOMPARE(previous.pixel(6, 7) | 0xFF000000u, scaleColor(0.8f, 1.0f));  // (q 7, k 6)
    QCOMPARE(previous.pixel(0, 7) | 0xFF000000u, table[0]);
    QCOMPARE(previous.pixel(9, 7) | 0xFF000000u, kMaskedRgb);
    QCOMPARE(first.pixel(0, 12) | 0xFF000000u, table[255]);
    QCOMPARE(first.pixel(11, 12) | 0xFF000000u, table[0]);
    // Clicking a thumbnail chooses its layer and head.
    const QRectF target(0, 0, 300, 200);
    const auto cell = atlas.cellAt(target, atlas.cellRect(target, 0, 1).center());
    QVERIFY(cell && cell->layer == 0 && cell->head == 1);
    // Downsampled: 1,024 tokens into 64 pixels keep the diagonal (max-pooled).
    const TokenAtlasPainter big = buildTokenAtlas(*plantedStack(1024), 64, "viridis");
    QCOMPARE(big.thumbnail(0, 0).width(), 64);
    QCOMPARE(big.thumbnail(0, 0).pixel(30, 30) | 0xFF000000u, scaleColor(0.8f, 1.0f));
}

void TestTokenViews::exportsAreValidSvgWithTheTokens() {
    QTemporaryDir dir;
    const Tokenizer tokenizer = loadTokenizer(kGpt2Tokenizer.toStdString());
    const std::string text = "the cat sat on the mat.";
    const TokenLayout tokens = tokenLayoutFor(tokenizer.encode(text));
    auto stack = plantedStack(tokens.size());
    stack->tokens = tokens;
    TokenHeadPainter heads;
    heads.setAttention(stack, 0, {});
    TokenMatrixPainter matrix;
    matrix.setMatrix(tokenMatrix(*stack, 0, {}), tokenLabels(stack->tokens));
    matrix.setTitle("matrix");
    TextSaliencyPainter saliency;
    saliency.setContent(text, "", tokens, std::vector<float>(std::size_t(tokens.size()), 0.5f));
    const TokenAtlasPainter atlas = buildTokenAtlas(*stack, 64, "viridis");
    const std::vector<std::pair<QString, std::function<void(QPainter&, const QRectF&)>>> figures = {
        {"heads", [&](QPainter& p, const QRectF& r) { heads.paint(p, r); }},
        {"matrix", [&](QPainter& p, const QRectF& r) { matrix.paint(p, r); }},
        {"saliency", [&](QPainter& p, const QRectF& r) { saliency.paint(p, r); }},
        {"atlas", [&](QPainter& p, const QRectF& r) { atlas.paint(p, r); }},
    };
    const std::vector<QSizeF> sizes = {heads.preferredSize(), matrix.preferredSize(),
                                       saliency.preferredSize(), atlas.preferredSize()};
    for (std::size_t i = 0; i < figures.size(); ++i) {
        const QString svg = dir.filePath(figures[i].first + ".svg");
        exportPainting(figures[i].second, svg, sizes[i], 300, figures[i].first);
        const QByteArray bytes = readAll(svg);
        QVERIFY2(bytes.contains("<svg"), qPrintable(figures[i].first));
        QVERIFY(bytes.trimmed().endsWith("</svg>"));
        if (figures[i].first != "atlas") {
            QVERIFY2(bytes.contains("cat"), qPrintable(figures[i].first + ": no token text"));
            QVERIFY2(bytes.contains("mat"), qPrintable(figures[i].first + ": no token text"));
        } else {
            QVERIFY(bytes.contains("H1") && bytes.contains("L0"));
        }
        const QString png = dir.filePath(figures[i].first + ".png");
        exportPainting(figures[i].second, png, sizes[i], 150);
        QVERIFY(!QImage(png).isNull());
        const QString pdf = dir.filePath(figures[i].first + ".pdf");
        exportPainting(figures[i].second, pdf, sizes[i], 300);
        QVERIFY(readAll(pdf).startsWith("%PDF"));
    }
}

void TestTokenViews::textSettingsRoundTrip() {
    TextSettings settings;
    settings.text = "the cat";
    settings.textPair = "sat";
    settings.overflow = "refuse";
    settings.heads = {1, 3};
    settings.layer = 2;
    settings.page = "matrix";
    settings.method = "rollout";
    const TextSettings back = TextSettings::fromJson(settings.toJson());
    QCOMPARE(back.toJson().dump(), settings.toJson().dump());
    nlohmann::json broken = settings.toJson();
    broken["page"] = "pie";
    QVERIFY_THROWS_EXCEPTION(fovea::Error, TextSettings::fromJson(broken));
    broken = settings.toJson();
    broken["overflow"] = "cut";
    QVERIFY_THROWS_EXCEPTION(fovea::Error, TextSettings::fromJson(broken));
}

void TestTokenViews::gpt2TextThroughTheWindowProducesAttention() {
    QTemporaryDir dir;
    MainWindow window;
    window.setQuiet(true);
    window.resize(1200, 800);
    window.show();
    TextController* text = window.textController();
    text->setTokenizerPath(kGpt2Tokenizer);
    window.openModel(kGpt2);
    QVERIFY(waitIdle(window));
    QVERIFY2(window.model(), qPrintable(window.lastError()));
    QCOMPARE(window.currentView(), QString("text"));  // a language model opens on the Text page
    {
        // The image pages are disabled, saying why; asking for one keeps the Text page.
        auto* tabs = qobject_cast<QTabWidget*>(window.centralWidget());
        QVERIFY(tabs);
        const QStringList imagePages = {"Heatmap", "Layer x head atlas", "Compare", "3D", "Segmentation"};
        for (int i = 0; i < tabs->count(); ++i) {
            const bool image = imagePages.contains(tabs->tabText(i));
            QCOMPARE(tabs->isTabEnabled(i), !image);
            if (image) QVERIFY(tabs->tabToolTip(i).contains("takes no images"));
        }
        window.setCurrentView("heatmap");
        QCOMPARE(window.currentView(), QString("text"));
    }
    QSignalSpy updated(text, &TextController::textUpdated);
    const QString typed = "the cat sat on the mat. the dog ran.";
    text->setText(typed);
    QVERIFY(waitIdle(window));
    QCOMPARE(updated.count(), 1);
    const TextRun* run = text->lastRun();
    QVERIFY(run);

    // What the tokenizer makes of the text, and the model's own run on those ids.
    const Tokenizer tokenizer = loadTokenizer(kGpt2Tokenizer.toStdString());
    const Encoding encoding = tokenizer.encode(typed.toStdString());
    QCOMPARE(run->input.size(), encoding.size());
    for (int t = 0; t < encoding.size(); ++t)
        QCOMPARE(run->input.ids[std::size_t(t)], int64_t(encoding.tokens[std::size_t(t)].id));
    QCOMPARE(run->input.text, typed.toStdString());
    const std::unique_ptr<Model> model = openModel(kGpt2.toStdString());
    CaptureRequest exact;
    exact.precision = AttentionPrecision::Float32;
    const ModelOutputs direct = model->runText(run->input, exact);
    const AttentionStack& stack = *run->attention;
    QCOMPARE(int(stack.layers.size()), 2);
    QVERIFY(stack.causal);
    const int n = run->input.size();
    for (const AttentionLayer& layer : stack.layers) {
        QCOMPARE(layer.tokens, n);
        for (int slot = 0; slot < int(layer.heads.size()); ++slot) {
            for (int q = 0; q < n; ++q) {
                double sum = 0;
                for (int k = 0; k < n; ++k) {
                    const float v = layer.value(slot, q, k);
                    if (k > q) QCOMPARE(v, 0.0f);
                    sum += v;
                    // The window keeps float16 (3 significant digits); the direct run float32.
                    QVERIFY(std::abs(v - direct.attention.layer(layer.layer).value(slot, q, k)) <
                            1e-3f);
                }
                QVERIFY(std::abs(sum - 1.0) < 2e-3);
            }
        }
    }
    // The views show it: the head view and the matrix have every token; the saliency view
    // explains the last position's next token; the atlas has 2 x 2 thumbnails.
    QCOMPARE(text->headView()->painter().tokens(), n);
    QCOMPARE(text->matrixView()->painter().tokens(), n);
    QCOMPARE(text->saliencyView()->painter().tokens(), n);
    QCOMPARE(text->atlasView()->painter().layers(), 2);
    QCOMPARE(text->shownLayer(), 1);

    // The layer and head keys drive the Text page while it is shown (and the text box, which
    // takes printable keys as text, does not have the focus).
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    text->headView()->setFocus();
    QTRY_VERIFY2(QApplication::focusWidget() == text->headView(),
                 QApplication::focusWidget()
                     ? QApplication::focusWidget()->metaObject()->className()
                     : "none");
    QTest::keyClick(&window, Qt::Key_BracketLeft);
    QCOMPARE(text->shownLayer(), 0);
    QCOMPARE(text->headView()->painter().layer(), 0);
    QTest::keyClick(&window, Qt::Key_Period);
    QCOMPARE(window.state().text.heads, std::vector<int>{0});
    QCOMPARE(text->headView()->painter().heads(), std::vector<int>{0});
    QTest::keyClick(&window, Qt::Key_Period);
    QCOMPARE(window.state().text.heads, std::vector<int>{1});
    QTest::keyClick(&window, Qt::Key_Period);
    QVERIFY(window.state().text.heads.empty());

    // Export through File > Export's path, and the session keeps the text.
    text->setPage("matrix");
    const QString svg = dir.filePath("matrix.svg");
    window.exportFigure(svg);
    QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
    QVERIFY(readAll(svg).contains("cat"));
    const QString session = dir.filePath("text.fovea");
    QVERIFY(window.saveSession(session));
    const SessionLoad load = loadSession(session.toStdString());
    QCOMPARE(load.state.text.text, typed.toStdString());
    QCOMPARE(load.state.text.page, std::string("matrix"));
    QCOMPARE(load.state.text.layer, 0);

    // Reopened: the text runs again with the same tokens.
    MainWindow second;
    second.setQuiet(true);
    QVERIFY(second.openSession(session));
    QVERIFY(waitIdle(second));
    QVERIFY(second.textController()->lastRun());
    QCOMPARE(second.textController()->lastRun()->input.ids, run->input.ids);
    QCOMPARE(second.textController()->pageName(), QString("matrix"));
}

void TestTokenViews::overflowTruncatesWithNoticeOrRefuses() {
    MainWindow window;
    window.setQuiet(true);
    TextController* text = window.textController();
    text->setTokenizerPath(kGpt2Tokenizer);
    window.openModel(kGpt2);
    QVERIFY(waitIdle(window));
    // 40 words, 40+ tokens: more than the model's 32 positions.
    QString longText;
    for (int i = 0; i < 20; ++i) longText += "the cat ";
    text->setOverflow("truncate");
    text->setText(longText);
    QVERIFY(waitIdle(window));
    QVERIFY(text->lastRun());
    QCOMPARE(text->lastRun()->input.size(), 32);
    QCOMPARE(text->notice().count("truncated"), 1);  // once, though the outputs repeat it
    QVERIFY2(text->notice().contains("truncated"),
             qPrintable(text->notice() + QString::number(text->lastRun()->input.notices.size())));
    text->setOverflow("refuse");
    QSignalSpy failed(text, &TextController::errorOccurred);
    text->run();
    QVERIFY(waitIdle(window));
    QCOMPARE(failed.count(), 1);
    QVERIFY2(failed.last().at(0).toString().contains("32"),
             qPrintable(failed.last().at(0).toString()));
    QVERIFY(text->notice().contains("32"));
    // A tokenizer whose ids the model does not have is refused with a clear message.
    text->setOverflow("truncate");
    text->setTokenizerPath(QStringLiteral(FOVEA_TEST_DATA_DIR "/tokenizers/gpt2-tiny-vocab"));
    QVERIFY(waitIdle(window));
    text->setText("hello world");
    QVERIFY(waitIdle(window));
    QVERIFY2(text->notice().contains("vocabulary"), qPrintable(text->notice()));
}

void TestTokenViews::bertPairThroughTheWindow() {
    MainWindow window;
    window.setQuiet(true);
    TextController* text = window.textController();
    text->setTokenizerPath(kBertTokenizer);
    window.openModel(kBert);
    QVERIFY(waitIdle(window));
    QVERIFY2(window.model(), qPrintable(window.lastError()));
    text->setText("the cat sat on the mat", "the dog ran");
    QVERIFY(waitIdle(window));
    const TextRun* run = text->lastRun();
    QVERIFY2(run, qPrintable(text->notice()));
    const TokenLayout& tokens = run->input.tokens;
    // [CLS] the cat sat on the mat [SEP] the dog ran [SEP]
    QCOMPARE(tokens.size(), 12);
    QCOMPARE(QString::fromStdString(tokens[0].text), QString("[CLS]"));
    QCOMPARE(tokens[9].segment, 1);
    QCOMPARE(QString::fromStdString(tokens[9].text), QString("dog"));
    QCOMPARE(run->input.tokenTypes[9], int64_t(1));
    QVERIFY(!run->attention->causal);
    QCOMPARE(text->saliencyView()->painter().tokens(), 12);
    // Not causal: the matrix has no masked cell.
    const TokenMatrix m = tokenMatrix(*run->attention, 1, {});
    for (const auto masked : m.mask) QCOMPARE(int(masked), 0);
}

void TestTokenViews::screenshotCommandShowsTheTextViews() {
    QTemporaryDir dir;
    const QString out = dir.filePath("matrix.png");
    QProcess fovea;
    fovea.start(FOVEA_CLI_PATH,
                {"gui", kGpt2, "--tokenizer", kGpt2Tokenizer, "--text", "the cat sat on the mat.",
                 "--view", "text-matrix", "--size", "1000x700", "--screenshot", out});
    QVERIFY(fovea.waitForFinished(120000));
    QVERIFY2(fovea.exitCode() == 0, fovea.readAllStandardError().constData());
    const QImage image(out);
    QVERIFY(!image.isNull());
    QCOMPARE(image.height(), 700);
    QVERIFY(image.width() >= 1000 &&
            image.width() < 1100);  // the window's minimum may add a little
    // Refusing text over the context still shows the window, and says why on stderr.
    QString longText;
    for (int i = 0; i < 20; ++i) longText += "the cat ";
    fovea.start(FOVEA_CLI_PATH,
                {"gui", kGpt2, "--tokenizer", kGpt2Tokenizer, "--text", longText, "--overflow",
                 "refuse", "--view", "text-heads", "--screenshot", dir.filePath("refused.png")});
    QVERIFY(fovea.waitForFinished(120000));
    QCOMPARE(fovea.exitCode(), 0);
    const QByteArray errors = fovea.readAllStandardError();
    QVERIFY2(errors.contains("more than the model's context of 32"), errors.constData());
    // A view that does not exist is a usage mistake.
    fovea.start(FOVEA_CLI_PATH,
                {"gui", kGpt2, "--view", "text-pie", "--screenshot", dir.filePath("x.png")});
    QVERIFY(fovea.waitForFinished(60000));
    QCOMPARE(fovea.exitCode(), 2);
}

// The Heads tab on a text model's run: with the token ids, the shipped induction-gpt's known
// heads get their labels; switching the induction heads off reruns the text and the repeated
// half is no longer predicted; reset brings it back.
void TestTokenViews::inductionHeadsFromTypedTextAndSwitchedOff() {
    MainWindow window;
    window.setQuiet(true);
    window.resize(1200, 800);
    window.show();
    window.openModel(QStringLiteral(FOVEA_SOURCE_DIR "/resources/models/induction-gpt"));
    QVERIFY(waitIdle(window));
    QVERIFY2(window.model(), qPrintable(window.lastError()));
    TextController* text = window.textController();
    const QString half = "cat dog bird fish tree river hill road city town door window table chair";
    text->setText(half + " " + half);
    QVERIFY(waitIdle(window));
    QVERIFY(text->lastRun());
    const int words = 14;
    // Top-1 on the second copy after its first word: the word that followed before.
    auto copied = [&]() {
        const TextRun* run = text->lastRun();
        const std::size_t width = run->outputs.positionLogits.size() / std::size_t(run->outputs.positions);
        int hits = 0;
        for (int t = words + 1; t < 2 * words; ++t) {
            const auto row = run->outputs.positionLogits.begin() + std::ptrdiff_t(std::size_t(t) * width);
            hits += std::max_element(row, row + std::ptrdiff_t(width)) - row == run->input.ids[std::size_t(t + 1)] ? 1 : 0;
        }
        return double(hits) / (words - 1);
    };
    QVERIFY2(copied() >= 0.9, qPrintable(QString::number(copied())));

    window.setCurrentView("heads");
    QVERIFY(waitIdle(window));
    const HeadData& data = window.heads()->data();
    QCOMPARE(int(data.points.size()), 8);
    std::set<int> previousLayers, inductionLayers;
    for (const HeadPoint& point : data.points) {
        for (int label : point.labels) {
            if (data.labels[std::size_t(label)].name == "previous-token") previousLayers.insert(point.key.layer);
            if (data.labels[std::size_t(label)].name == "induction") inductionLayers.insert(point.key.layer);
        }
    }
    QCOMPARE(previousLayers, (std::set<int>{0}));
    QCOMPARE(inductionLayers, (std::set<int>{1}));

    QSignalSpy updated(text, &TextController::textUpdated);
    window.heads()->setHeadScales({{1, 0}, {1, 1}, {1, 2}, {1, 3}}, 0.0f);
    QVERIFY(waitIdle(window));
    QCOMPARE(updated.count(), 1);
    QVERIFY2(copied() <= 0.3, qPrintable(QString::number(copied())));
    window.heads()->resetHeads();
    QVERIFY(waitIdle(window));
    QCOMPARE(updated.count(), 2);
    QVERIFY2(copied() >= 0.9, qPrintable(QString::number(copied())));
}

QTEST_MAIN(TestTokenViews)
#include "test_token_views.moc"
