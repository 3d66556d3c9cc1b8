// The head views and interventions in the window, on the shipped shapes-vit model: switching a
// head off changes the model's output exactly where it should (the attention of its own and
// earlier layers stays bit for bit, later layers change), and matches a separate model with the
// same head scales; "Reset heads" restores the outputs bit for bit; the session keeps the mask
// and a reopened session runs with it. The Heads tab analyses every head, its selection follows
// the atlas, the importance colouring shows the KL of the output when a head is switched off
// (checked against two plain forward passes), heatmaps can leave the sink tokens out, and
// `fovea export --view heads|sinks|atlas` writes the figures headless.
#include "core/data/shapes_scene.h"
#include "core/heads/attention_sinks.h"
#include "core/io/image_io.h"
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/session/session.h"
#include "widgets/atlas_view.h"
#include "widgets/head_scatter_view.h"
#include "widgets/heads_controller.h"
#include "widgets/heads_page.h"
#include "widgets/heatmap_view.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <functional>

using namespace fovea;

namespace {

const QString kShapes = QStringLiteral(FOVEA_SOURCE_DIR "/resources/models/shapes-vit");

double maxDifference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    return worst;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<double> softmax(const std::vector<float>& logits) {
    double top = -1e300;
    for (float v : logits) top = std::max(top, double(v));
    std::vector<double> p;
    double sum = 0.0;
    for (float v : logits) {
        p.push_back(std::exp(double(v) - top));
        sum += p.back();
    }
    for (double& v : p) v /= sum;
    return p;
}

}  // namespace

class TestHeadInterventions : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_image;

    // Runs `action` and waits until the window shows the run that follows it.
    static bool nextRun(MainWindow& window, const std::function<void()>& action) {
        const ModelOutputs* before = window.outputs();
        QSignalSpy updated(&window, &MainWindow::figureUpdated);
        action();
        for (int i = 0; i < 40; ++i) {
            if (window.outputs() && window.outputs() != before && !window.jobs()->busy())
                return true;
            updated.wait(3000);
        }
        return window.outputs() && window.outputs() != before;
    }

    static bool idle(MainWindow& window) {
        if (!window.jobs()->busy()) return true;
        QSignalSpy done(window.jobs(), &JobRunner::idle);
        return done.wait(60000);
    }

    static bool openShapes(MainWindow& window, const QString& image) {
        window.setQuiet(true);
        window.resize(1280, 800);
        window.openModel(kShapes);
        return nextRun(window, [&] { window.addInputs({image}); }) && idle(window);
    }

  private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
        m_image = m_dir.filePath("scene.png");
        writeImage(m_image.toStdString(), generateScene(1000000000ULL + 77).image);
    }

    void switchingAHeadOffChangesTheOutputAndResetRestoresIt() {
        MainWindow window;
        QVERIFY(openShapes(window, m_image));
        const std::vector<float> original = window.outputs()->logits;
        const AttentionStack originalAttention = window.outputs()->attention;
        QCOMPARE(window.state().heads.scales.size(), std::size_t(0));

        // Layer 1, head 2 off.
        QVERIFY(nextRun(window, [&] { window.heads()->setHeadScale({1, 2}, 0.0f); }));
        const std::vector<float> masked = window.outputs()->logits;
        QVERIFY2(maxDifference(original, masked) > 1e-4,
                 qPrintable(QString::number(maxDifference(original, masked))));
        QCOMPARE(window.state().heads.scaleOf(1, 2), 0.0f);
        // The head's output is scaled after its attention: layers 0 and 1 attend exactly as
        // before, the layers above see a different residual stream.
        for (int layer = 0; layer < 4; ++layer) {
            const std::vector<float> before = originalAttention.layer(layer).allValues();
            const std::vector<float> after = window.outputs()->attention.layer(layer).allValues();
            if (layer <= 1) {
                QVERIFY2(sameBits(before, after), qPrintable(QString("layer %1").arg(layer)));
            } else {
                QVERIFY2(maxDifference(before, after) > 1e-4,
                         qPrintable(QString("layer %1").arg(layer)));
            }
        }
        // A separate model with the same scales gives the same logits.
        {
            const std::unique_ptr<Model> model = fovea::openModel(kShapes.toStdString());
            HeadScales scales = HeadScales::identity(model->spec().depth, model->spec().numHeads);
            scales.set(1, 2, 0.0f);
            model->setHeadScales(scales);
            const ModelOutputs out = model->run(
                loadImageInput(m_image.toStdString(), model->spec()), CaptureRequest::nothing());
            QVERIFY2(maxDifference(out.logits, masked) < 1e-5,
                     qPrintable(QString::number(maxDifference(out.logits, masked))));
        }

        // Reset: bit for bit the original outputs.
        QVERIFY(nextRun(window, [&] { window.heads()->resetHeads(); }));
        QVERIFY(sameBits(window.outputs()->logits, original));
        QVERIFY(sameBits(window.outputs()->attention.layer(3).allValues(),
                         originalAttention.layer(3).allValues()));
        QVERIFY(!window.state().heads.intervened());

        // Scaling (not only switching off) also acts, and restoring the head (scale 1) is a reset.
        QVERIFY(nextRun(window, [&] { window.heads()->setHeadScale({0, 1}, 2.0f); }));
        QVERIFY(maxDifference(original, window.outputs()->logits) > 1e-4);
        QVERIFY(nextRun(window, [&] { window.heads()->setHeadScale({0, 1}, 1.0f); }));
        QVERIFY(sameBits(window.outputs()->logits, original));
    }

    // The session records the mask; a reopened session runs with it.
    void theSessionKeepsTheMask() {
        QTemporaryDir dir;
        const QString path = dir.filePath("heads.fovea");
        std::vector<float> intervened;
        {
            MainWindow window;
            QVERIFY(openShapes(window, m_image));
            QVERIFY(nextRun(window, [&] {
                window.heads()->setHeadScales({{2, 0}, {3, 3}}, 0.0f);
            }));
            QVERIFY(nextRun(window, [&] { window.heads()->setHeadScale({1, 1}, 0.5f); }));
            intervened = window.outputs()->logits;
            QVERIFY(window.saveSession(path));
        }
        const SessionLoad load = loadSession(path.toStdString());
        QCOMPARE(load.state.heads.scales.size(), std::size_t(3));
        QCOMPARE(load.state.heads.scaleOf(2, 0), 0.0f);
        QCOMPARE(load.state.heads.scaleOf(3, 3), 0.0f);
        QCOMPARE(load.state.heads.scaleOf(1, 1), 0.5f);
        MainWindow reopened;
        reopened.setQuiet(true);
        QVERIFY(nextRun(reopened, [&] { QVERIFY(reopened.openSession(path)); }));
        QVERIFY(idle(reopened));
        QVERIFY2(
            maxDifference(reopened.outputs()->logits, intervened) < 1e-6,
            qPrintable(QString::number(maxDifference(reopened.outputs()->logits, intervened))));
        QCOMPARE(reopened.atlasView()->atlas().scales().size(), std::size_t(3));
    }

    // The Heads tab: every head analysed, lasso linked to the atlas, exports.
    void headsTabAnalysesEveryHead() {
        MainWindow window;
        QVERIFY(openShapes(window, m_image));
        QSignalSpy analysed(window.heads(), &HeadsController::analysisUpdated);
        window.setCurrentView("heads");
        QCOMPARE(window.currentView(), QString("heads"));
        QVERIFY(analysed.count() > 0 || analysed.wait(60000));
        const HeadData& data = window.heads()->data();
        QCOMPARE(int(data.points.size()), 16);
        QVERIFY(!data.clusterNames.empty());
        for (const HeadPoint& p : data.points) QVERIFY(!p.pattern.empty());
        const SinkTimeline& timeline = window.heads()->timeline();
        QCOMPARE(timeline.mass.rows, 4);
        QCOMPARE(timeline.mass.cols, 65);
        // The timeline shows the core's sink masses.
        const SinkAnalysis sinks = analyzeAttentionSinks(window.outputs()->attention);
        for (int row = 0; row < 4; ++row) {
            for (int token = 0; token < 65; token += 7)
                QCOMPARE(timeline.mass.at<float>(row, token), sinks.mass(row, token));
        }
        // Lasso everything in the scatter: the atlas shows all 16 selected.
        HeadScatterView* scatter = window.heads()->page()->scatter();
        scatter->applyLasso(QPolygonF(scatter->scatterRect()), false);
        QCOMPARE(int(window.atlasView()->atlas().selection().size()), 16);
        QCOMPARE(int(window.state().heads.selection.size()), 16);
        // Switch off the selection from the menu action's path: one rerun, 16 heads off.
        QVERIFY(nextRun(window,
                        [&] { window.heads()->setHeadScales(window.heads()->selection(), 0.0f); }));
        QCOMPARE(int(window.state().heads.scales.size()), 16);
        QVERIFY(nextRun(window, [&] { window.heads()->resetHeads(); }));

        QTemporaryDir dir;
        window.exportFigure(dir.filePath("scatter.svg"));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QVERIFY(QSvgRenderer(dir.filePath("scatter.svg")).isValid());
        window.setCurrentView("sinks");
        QCOMPARE(window.currentView(), QString("sinks"));
        window.exportFigure(dir.filePath("sinks.pdf"));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QVERIFY(QFile(dir.filePath("sinks.pdf")).size() > 1000);
        window.exportFigure(dir.filePath("sinks.svg"));
        QVERIFY(QSvgRenderer(dir.filePath("sinks.svg")).isValid());
    }

    // The importance colouring: KL(p || p without the head) per head, as two plain forward
    // passes of a separate model give it.
    void importanceColouringShowsTheKlOfSwitchingAHeadOff() {
        MainWindow window;
        QVERIFY(openShapes(window, m_image));
        QSignalSpy importance(window.heads(), &HeadsController::importanceUpdated);
        window.setCurrentView("atlas");
        window.atlasView()->setColouring(AtlasColouring::Importance);
        window.heads()->setAtlasColouring(AtlasColouring::Importance);
        QVERIFY(importance.count() > 0 || importance.wait(120000));
        QVERIFY(idle(window));
        const HeadData& data = window.atlasView()->atlas().headData();
        QCOMPARE(int(data.points.size()), 16);
        const std::unique_ptr<Model> model = fovea::openModel(kShapes.toStdString());
        const ImageInput input = loadImageInput(m_image.toStdString(), model->spec());
        const std::vector<double> p = softmax(model->run(input, CaptureRequest::nothing()).logits);
        for (const HeadKey key : {HeadKey{0, 0}, HeadKey{2, 3}, HeadKey{3, 1}}) {
            HeadScales scales = HeadScales::identity(4, 4);
            scales.set(key.layer, key.head, 0.0f);
            model->setHeadScales(scales);
            const std::vector<double> q =
                softmax(model->run(input, CaptureRequest::nothing()).logits);
            model->resetHeadScales();
            double kl = 0.0;
            for (std::size_t c = 0; c < p.size(); ++c) kl += p[c] * std::log(p[c] / q[c]);
            const HeadPoint* point = data.find(key);
            QVERIFY(point);
            QVERIFY2(std::abs(point->importance - kl) < 1e-5 + 1e-3 * kl,
                     qPrintable(QString("L%1 h%2: %3 vs %4")
                                    .arg(key.layer)
                                    .arg(key.head)
                                    .arg(point->importance)
                                    .arg(kl)));
        }
        QTemporaryDir dir;
        window.exportFigure(dir.filePath("atlas.svg"));
        QFile svg(dir.filePath("atlas.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("KL when switched off"));
    }

    // "Exclude sink tokens": the map without the sinks' patches, renormalised to sum 1.
    void excludeSinkTokensRenormalisesTheMap() {
        MainWindow window;
        QVERIFY(openShapes(window, m_image));
        // The layer with the most sink patches (the last one when no layer has any).
        const SinkAnalysis sinks = analyzeAttentionSinks(window.outputs()->attention);
        const TokenLayout& tokens = window.outputs()->attention.tokens;
        int layer = 3, most = 0;
        for (int l = 0; l < 4; ++l) {
            int patches = 0;
            for (int position : sinkPositionsToExclude(sinks, l))
                patches += tokens[position].kind == TokenKind::Patch ? 1 : 0;
            if (patches > most) {
                most = patches;
                layer = l;
            }
        }
        ViewSettings view = window.state().view;
        view.layer = layer;
        QSignalSpy figures(&window, &MainWindow::figureUpdated);
        window.setView(view);
        QVERIFY(figures.count() > 0 || figures.wait(20000));
        const cv::Mat plain = window.heatmapView()->figure().heatmap().clone();
        view.excludeSinks = true;
        figures.clear();
        window.setView(view);
        QVERIFY(figures.count() > 0 || figures.wait(20000));
        const cv::Mat excluded = window.heatmapView()->figure().heatmap();
        const std::vector<int> hidden = sinkPositionsToExclude(sinks, layer);
        const auto isSink = [&](int r, int c) {
            return std::find(hidden.begin(), hidden.end(), tokens.patchIndex(r, c)) != hidden.end();
        };
        double sum = 0.0, plainSum = 0.0;
        int masked = 0;
        for (int r = 0; r < plain.rows; ++r) {
            for (int c = 0; c < plain.cols; ++c) {
                const float v = excluded.at<float>(r, c);
                QCOMPARE(std::isnan(v), isSink(r, c));
                if (isSink(r, c)) {
                    ++masked;
                    continue;
                }
                sum += v;
                plainSum += plain.at<float>(r, c);
            }
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-4);
        // In proportion to the plain map, cell by cell.
        for (int r = 0; r < plain.rows; ++r) {
            for (int c = 0; c < plain.cols; ++c) {
                if (!isSink(r, c))
                    QVERIFY(std::abs(excluded.at<float>(r, c) * plainSum - plain.at<float>(r, c)) <
                            1e-5);
            }
        }
        QCOMPARE(window.state().view.excludeSinks, true);
        qInfo("layer %d: %d sink patches masked, %zu sink tokens", layer, masked, hidden.size());
    }

    void exportCommandDrawsTheHeadViews() {
        QTemporaryDir dir;
        const QString session = dir.filePath("s.fovea");
        SessionState state;
        state.modelPath = kShapes.toStdString();
        state.inputs = {m_image.toStdString()};
        state.currentInput = 0;
        state.heads.atlasColouring = "cluster";
        state.heads.setScale(1, 2, 0.0f);
        state.heads.selection = {{0, 1}};
        saveSession(session.toStdString(), state);
        const auto run = [&](const QStringList& arguments) {
            QProcess fovea;
            fovea.start(FOVEA_CLI_PATH, arguments);
            if (!fovea.waitForFinished(180000)) return -1;
            if (fovea.exitCode() != 0) qWarning("%s", fovea.readAllStandardError().constData());
            return fovea.exitCode();
        };
        for (const QString& view :
             {QStringLiteral("heads"), QStringLiteral("sinks"), QStringLiteral("atlas")}) {
            const QString out = dir.filePath(view + ".svg");
            QCOMPARE(run({"export", session, "--view", view, "--out", out, "--threads", "1"}), 0);
            QFile svg(out);
            QVERIFY(svg.open(QIODevice::ReadOnly));
            const QByteArray text = svg.readAll();
            QVERIFY(QSvgRenderer(text).isValid());
            if (view == "atlas") QVERIFY(text.contains("Clusters"));
            if (view == "sinks") QVERIFY(text.contains("primary sink"));
        }
        QCOMPARE(run({"export", session, "--view", "scatter", "--out", dir.filePath("x.svg")}),
                 2);  // a usage mistake
    }
};

QTEST_MAIN(TestHeadInterventions)
#include "test_head_interventions.moc"
