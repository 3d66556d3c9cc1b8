// The workbench window driven like a user: open a model and an image, switch layer, head and
// method with the keyboard, click a patch, export, save and reopen a session. Maps on screen
// are checked against the reference fixture's attention (an independent PyTorch run).
#include "core/explain/explainer.h"
#include "core/io/npy.h"
#include "core/model/registry.h"
#include "core/model/model.h"
#include "widgets/atlas_view.h"
#include "widgets/compare_view.h"
#include "widgets/heatmap_view.h"
#include "widgets/inspector_panel.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"

#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include <cmath>
#include <functional>

using namespace fovea;

namespace {

const QString kModel = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny");
const QString kImage = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny/input.png");

// expected_attention [3 layers, 3 heads, 17, 17]; token 0 is CLS, patches 1..16 (4x4).
std::vector<float> referenceAttention() {
    return readNpy(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny/expected_attention.npy").toFloats();
}

cv::Mat1f referenceMap(int layer, const std::function<float(float, float, float)>& fuse, int query = 0) {
    const std::vector<float> a = referenceAttention();
    cv::Mat1f map(4, 4);
    for (int p = 0; p < 16; ++p) {
        auto at = [&](int h) { return a[((std::size_t(layer) * 3 + h) * 17 + query) * 17 + 1 + p]; };
        map(p / 4, p % 4) = fuse(at(0), at(1), at(2));
    }
    return map;
}

cv::Mat1f referenceRollout(int query) {
    const std::vector<float> r = readNpy(std::string(FOVEA_TEST_DATA_DIR) + "/models/timm-vit-tiny/expected_rollout.npy").toFloats();
    cv::Mat1f map(4, 4);
    for (int p = 0; p < 16; ++p) map(p / 4, p % 4) = r[std::size_t(query) * 17 + 1 + p];
    return map;
}

double difference(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

    // Waits for the next map on screen after `action`.
    static bool nextFigure(MainWindow& window, const std::function<void()>& action) {
        QSignalSpy updated(&window, &MainWindow::figureUpdated);
        action();
        return updated.count() > 0 || updated.wait(20000);
    }

private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
    }

    // Model-level methods: editors generated from the method's parameters drive the map; the
    // comparison shows every method as a grid, each on its own scale, same maps as the core's.
    void parameterEditorsAndTheAllMethodsGrid() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();  // shortcuts need the active window (no window manager under Xvfb)
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        {
            // An image model leaves the Text page disabled, saying why.
            auto* tabs = qobject_cast<QTabWidget*>(window.centralWidget());
            QVERIFY(tabs);
            for (int i = 0; i < tabs->count(); ++i) {
                const bool text = tabs->tabText(i) == "Text";
                QCOMPARE(tabs->isTabEnabled(i), !text);
                if (text) QVERIFY(tabs->tabToolTip(i).contains("takes no text"));
            }
            window.setCurrentView("text");
            QCOMPARE(window.currentView(), QString("heatmap"));
        }
        QVERIFY(nextFigure(window, [&] { window.setMethod("integrated-gradients"); }));
        auto* steps = window.findChild<QSpinBox*>("param-steps");
        QVERIFY(steps);
        QCOMPARE(steps->value(), 64);
        auto* sign = window.findChild<QComboBox*>("param-sign");
        QVERIFY(sign);
        QCOMPARE(sign->currentText(), QString("signed"));
        const cv::Mat at64 = window.figure().heatmap().clone();
        QVERIFY(nextFigure(window, [&] { steps->setValue(2); }));
        QCOMPARE(window.state().view.params.at("steps"), 2.0);
        QVERIFY(difference(window.figure().heatmap(), at64) > 1e-6);  // two steps are a coarser integral
        // The same map the core computes with those parameters.
        const std::unique_ptr<Model> model = fovea::openModel(kModel.toStdString());
        const ImageInput input = loadImageInput(kImage.toStdString(), model->spec());
        ExplainContext context(*model, input);
        const Explainer& ig = findExplainer("integrated-gradients");
        const cv::Mat expected = ig.explain(context, ig.resolve({{"steps", 2}}));
        QVERIFY(difference(window.figure().heatmap(), expected) < 1e-5);
        // Switching to a method without that parameter and back keeps the value.
        QVERIFY(nextFigure(window, [&] { window.setMethod("gradcam"); }));
        QVERIFY(!window.findChild<QSpinBox*>("param-steps"));
        QVERIFY(nextFigure(window, [&] { window.setMethod("integrated-gradients"); }));
        QCOMPARE(window.findChild<QSpinBox*>("param-steps")->value(), 2);

        QSignalSpy compared(&window, &MainWindow::comparisonUpdated);
        QTest::keyClick(&window, Qt::Key_M, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY2(compared.wait(60000), qPrintable(window.lastError()));
        QCOMPARE(window.currentView(), QString("compare"));
        const ComparePainter& grid = window.compareView()->comparison();
        QCOMPARE(int(grid.panels().size()), int(explainers().size()));
        QVERIFY(grid.columns() >= 4);
        QVERIFY(!window.state().comparisonSharedRange);
        int visible = 0;
        for (HeatmapView* view : window.compareView()->views()) visible += view->isVisible() ? 1 : 0;
        QCOMPARE(visible, int(explainers().size()));
        const std::vector<std::string> names = explainerNames();
        const auto gradcam = std::find(names.begin(), names.end(), "gradcam") - names.begin();
        ExplainContext again(*model, input);
        const cv::Mat gradcamMap = findExplainer("gradcam").explain(again, findExplainer("gradcam").defaults());
        QVERIFY(difference(grid.panels()[std::size_t(gradcam)].heatmap(), gradcamMap) < 1e-5);
    }

    void keysAndClicksChangeTheMapAsTheyShould() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        const auto mean = [](float a, float b, float c) { return (a + b + c) / 3.0f; };
        const auto max = [](float a, float b, float c) { return std::max({a, b, c}); };
        // Default: last layer, mean of heads, CLS query. Attention is stored as float16.
        QVERIFY(difference(window.figure().heatmap(), referenceMap(2, mean)) < 1e-3);

        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_BracketLeft); }));
        QCOMPARE(window.state().view.layer, 1);
        QVERIFY(difference(window.figure().heatmap(), referenceMap(1, mean)) < 1e-3);

        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Period); }));
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("max"));
        QVERIFY(difference(window.figure().heatmap(), referenceMap(1, max)) < 1e-3);

        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Period); }));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Period); }));
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("0"));  // mean, max, min, 0
        QVERIFY(difference(window.figure().heatmap(), referenceMap(1, [](float a, float, float) { return a; })) < 1e-3);

        // Rollout, with the head mean as in the reference.
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Comma); }));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Comma); }));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Comma); }));
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("mean"));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_R); }));
        QCOMPARE(QString::fromStdString(window.state().view.method), QString("rollout"));
        QVERIFY(difference(window.figure().heatmap(), referenceRollout(0)) < 1e-3);

        // Clicking patch (row 2, col 1) makes it the query: token 1 + 2 * 4 + 1 = 10.
        HeatmapView* view = window.heatmapView();
        const QRectF image = view->figure().imageRect(view->figureRect());
        const QPoint cell(int(image.left() + image.width() * 1.5 / 4), int(image.top() + image.height() * 2.5 / 4));
        QVERIFY(nextFigure(window, [&] { QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, cell); }));
        QCOMPARE(window.state().view.query, 10);
        QVERIFY(difference(window.figure().heatmap(), referenceRollout(10)) < 1e-3);

        // Escape goes back to the CLS query.
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_Escape); }));
        QCOMPARE(window.state().view.query, -1);
    }

    void atlasShowsEveryHeadAndKeysMoveTheFocus() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy atlasReady(&window, &MainWindow::atlasUpdated);
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        QVERIFY(atlasReady.count() > 0 || atlasReady.wait(20000));
        window.setCurrentView("atlas");
        QCOMPARE(window.currentView(), QString("atlas"));
        const AtlasPainter& atlas = window.atlasView()->atlas();
        QCOMPARE(atlas.layers(), 3);
        QCOMPARE(atlas.heads(), 3);
        const auto mean = [](float a, float b, float c) { return (a + b + c) / 3.0f; };
        for (int layer = 0; layer < 3; ++layer) {
            for (int head = 0; head < 3; ++head) {
                const cv::Mat1f expected = referenceMap(layer, [head](float a, float b, float c) { return head == 0 ? a : head == 1 ? b : c; });
                QVERIFY2(difference(atlas.map(layer, head), expected) < 1e-3, qPrintable(QString("L%1 h%2").arg(layer).arg(head)));
            }
            QVERIFY(difference(atlas.map(layer, 3), referenceMap(layer, mean)) < 1e-3);
        }
        // Clicking a cell focuses that head; the heatmap follows it; arrows move the focus.
        AtlasView* view = window.atlasView();
        const QRectF cell = atlas.cellRect(view->atlasRect(), 1, 2);
        QVERIFY(nextFigure(window, [&] { QTest::mouseClick(view, Qt::LeftButton, Qt::NoModifier, cell.center().toPoint()); }));
        QCOMPARE(window.state().view.layer, 1);
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("2"));
        QVERIFY(difference(window.figure().heatmap(), referenceMap(1, [](float, float, float c) { return c; })) < 1e-3);
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(view, Qt::Key_Right); }));
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("mean"));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(view, Qt::Key_Down); }));
        QCOMPARE(window.state().view.layer, 2);
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(view, Qt::Key_Left); }));
        QCOMPARE(QString::fromStdString(window.state().view.heads), QString("2"));

        QTemporaryDir dir;
        window.exportFigure(dir.filePath("atlas.svg"));
        QFile svg(dir.filePath("atlas.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        QVERIFY(text.contains("mean"));
        QVERIFY(text.contains("L2"));
    }

    void comparisonShowsViewsSideBySideWithLinkedZoom() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();  // shortcuts need the active window (no window manager under Xvfb)
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        QSignalSpy compared(&window, &MainWindow::comparisonUpdated);
        QTest::keyClick(&window, Qt::Key_D, Qt::ControlModifier);  // raw, last layer, mean
        QVERIFY(compared.wait(20000));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_R); }));  // rollout
        compared.clear();
        QTest::keyClick(&window, Qt::Key_D, Qt::ControlModifier);
        QVERIFY(compared.wait(20000));
        QCOMPARE(window.currentView(), QString("compare"));
        const ComparePainter& comparison = window.compareView()->comparison();
        QCOMPARE(int(comparison.panels().size()), 2);
        const auto mean = [](float a, float b, float c) { return (a + b + c) / 3.0f; };
        QVERIFY(difference(comparison.panels()[0].heatmap(), referenceMap(2, mean)) < 1e-3);
        QVERIFY(difference(comparison.panels()[1].heatmap(), referenceRollout(0)) < 1e-3);
        // Shared colour scale (the default): both panels use the union of their ranges.
        const ValueRange a = comparison.panels()[0].range(), b = comparison.panels()[1].range();
        QCOMPARE(a.low, b.low);
        QCOMPARE(a.high, b.high);
        double low = 0, high = 0;
        cv::minMaxLoc(comparison.panels()[1].heatmap(), &low, &high);
        QVERIFY(a.low <= low && a.high >= high);
        // Linked zoom: zooming one panel zooms the other.
        HeatmapView* first = window.compareView()->views()[0];
        HeatmapView* second = window.compareView()->views()[1];
        first->setZoom(2.0, first->rect().center());
        QCOMPARE(second->zoom(), 2.0);
        QCOMPARE(second->pan(), first->pan());
        // Separate scales on request.
        compared.clear();
        window.setComparisonSharedRange(false);
        QVERIFY(compared.wait(20000));
        QVERIFY(window.compareView()->comparison().panels()[0].range().high != window.compareView()->comparison().panels()[1].range().high);

        // A panel of another input keeps showing that input after going back to the first one.
        QTemporaryDir dir;
        QImage other(32, 32, QImage::Format_RGB32);
        for (int y = 0; y < 32; ++y)
            for (int x = 0; x < 32; ++x) other.setPixel(x, y, qRgb(x * 8, y * 8, (x * y) % 256));
        QVERIFY(other.save(dir.filePath("other.png")));
        window.addInputs({dir.filePath("other.png")});
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_PageDown); }));
        QCOMPARE(window.state().currentInput, 1);
        const cv::Mat otherMap = window.figure().heatmap().clone();
        QVERIFY(difference(otherMap, referenceRollout(0)) > 1e-4);  // a different picture, a different map
        compared.clear();
        QTest::keyClick(&window, Qt::Key_D, Qt::ControlModifier);
        QVERIFY(compared.wait(20000));
        QVERIFY(nextFigure(window, [&] { QTest::keyClick(&window, Qt::Key_PageUp); }));
        QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 20000);
        const auto& panels = window.compareView()->comparison().panels();
        QCOMPARE(int(panels.size()), 3);
        QCOMPARE(difference(panels[2].heatmap(), otherMap), 0.0);
        QVERIFY(difference(panels[1].heatmap(), referenceRollout(0)) < 1e-3);
        QVERIFY(QString::fromStdString(panels[2].options().title).startsWith("other.png"));

        window.exportFigure(dir.filePath("compare.pdf"));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QFile pdf(dir.filePath("compare.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.read(5) == "%PDF-");
    }

    void gradientMethodsFromTheRegistry() {
        MainWindow window;
        window.setQuiet(true);
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        // The method list is the registry's (the inspector's first combo box; other tabs have their own).
        auto* method = window.findChild<InspectorPanel*>()->findChild<QComboBox*>();
        QVERIFY(method != nullptr);
        QStringList names;
        for (int i = 0; i < method->count(); ++i) names << method->itemText(i);
        QVERIFY2(names.contains("chefer") && names.contains("gradient-rollout"), qPrintable(names.join(",")));
        ViewSettings view = window.state().view;
        view.method = "chefer";
        QVERIFY(nextFigure(window, [&] { window.setView(view); }));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        // Against the core on a float32 gradient run of the same input (top-1 class).
        const std::unique_ptr<Model> model = openModel(kModel.toStdString());
        CaptureRequest request;
        request.gradients = true;
        request.precision = AttentionPrecision::Float32;
        const ModelOutputs out = model->run(loadImageInput(kImage.toStdString(), model->spec()), request);
        const std::vector<float> chefer = cheferRelevanceMatrix(out.attention);
        cv::Mat1f expected(4, 4);
        for (int p = 0; p < 16; ++p) expected(p / 4, p % 4) = chefer[std::size_t(1 + p)];
        const double scale = cv::norm(expected, cv::NORM_INF);
        QVERIFY(scale > 0);
        QVERIFY2(difference(window.figure().heatmap(), expected) < 2e-3 * scale + 1e-6,
                 qPrintable(QString::number(difference(window.figure().heatmap(), expected))));
    }

    void exportsEveryFormat() {
        MainWindow window;
        window.setQuiet(true);
        QVERIFY(nextFigure(window, [&] {
            window.openModel(kModel);
            window.addInputs({kImage});
        }));
        QTemporaryDir dir;
        const QSizeF points = window.figure().preferredSize();

        window.exportFigure(dir.filePath("f.png"), 150);
        const QImage png(dir.filePath("f.png"));
        QCOMPARE(png.width(), int(std::lround(points.width() * 150 / 72.0)));
        QCOMPARE(png.height(), int(std::lround(points.height() * 150 / 72.0)));
        QCOMPARE(png.dotsPerMeterX(), int(std::lround(150 / 0.0254)));

        window.exportFigure(dir.filePath("f.svg"));
        QFile svg(dir.filePath("f.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        QVERIFY(text.startsWith("<?xml"));
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("<image"));              // the input image
        QVERIFY(text.count("<path") + text.count("<rect") >= 16);  // 16 vector patch cells at least
        QVERIFY(text.contains("predicted"));           // the title is text, not pixels

        window.exportFigure(dir.filePath("f.pdf"));
        QFile pdf(dir.filePath("f.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdf.readAll();
        QVERIFY(bytes.startsWith("%PDF-"));
        // The page is the figure's size in points.
        const int box = bytes.indexOf("/MediaBox");
        QVERIFY(box > 0);
        const QByteArray mediaBox = bytes.mid(box, 80);
        const QList<QByteArray> numbers = mediaBox.mid(mediaBox.indexOf('[') + 1, mediaBox.indexOf(']') - mediaBox.indexOf('[') - 1).simplified().split(' ');
        QCOMPARE(numbers.size(), 4);
        QVERIFY(std::abs(numbers[2].toDouble() - points.width()) < 1.0);
        QVERIFY(std::abs(numbers[3].toDouble() - points.height()) < 1.0);

        window.exportFigure(dir.filePath("f.gif"));
        QVERIFY(window.lastError().contains("unknown figure format"));
        QVERIFY(!QFile::exists(dir.filePath("f.gif")));
    }

    void sessionRoundTrip() {
        QTemporaryDir dir;
        const QString path = dir.filePath("study.fovea");
        cv::Mat saved;
        {
            MainWindow window;
            window.setQuiet(true);
            QVERIFY(nextFigure(window, [&] {
                window.openModel(kModel);
                window.addInputs({kImage});
            }));
            ViewSettings view = window.state().view;
            view.method = "raw";
            view.layer = 0;
            view.heads = "2";
            view.query = 5;
            view.figure.colormap = "cividis";
            view.rangeMode = "percentile";
            view.percentile = 90;
            QVERIFY(nextFigure(window, [&] { window.setView(view); }));
            saved = window.figure().heatmap().clone();
            QVERIFY(window.saveSession(path));
        }
        MainWindow reopened;
        reopened.setQuiet(true);
        QVERIFY(nextFigure(reopened, [&] { QVERIFY(reopened.openSession(path)); }));
        QCOMPARE(reopened.state().view.layer, 0);
        QCOMPARE(QString::fromStdString(reopened.state().view.heads), QString("2"));
        QCOMPARE(reopened.state().view.query, 5);
        QCOMPARE(QString::fromStdString(reopened.figure().options().colormap), QString("cividis"));
        QCOMPARE(difference(reopened.figure().heatmap(), saved), 0.0);
        // Layer 0, head 2, query token 5 of the reference.
        QVERIFY(difference(saved, referenceMap(0, [](float, float, float c) { return c; }, 5)) < 1e-3);
    }

    void missingFilesInASessionAreReportedAndTheRestOpens() {
        QTemporaryDir dir;
        const QString path = dir.filePath("s.fovea");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral("{\"fovea_session\": 1, \"model\": \"%1\", \"inputs\": [\"%2\", \"gone.png\"], \"current_input\": 0}")
                       .arg(kModel, kImage)
                       .toUtf8());
        file.close();
        MainWindow window;
        window.setQuiet(true);
        QVERIFY(nextFigure(window, [&] {
            QVERIFY(window.openSession(path));
            QVERIFY2(window.lastError().contains("gone.png"), qPrintable(window.lastError()));
        }));
        QCOMPARE(int(window.state().inputs.size()), 1);
        QVERIFY(!window.figure().heatmap().empty());
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
