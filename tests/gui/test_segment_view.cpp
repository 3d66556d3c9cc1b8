// The segmentation tab driven like a user on the shipped shapes model: the overlay must show the
// core's segmentation of the same input (fill colours at every patch centre, one contour per
// boundary curve), toggles hide segments, ground truth (PNG label mask or COCO) loads and the IoU
// shown is the core's, SVG exports keep the contours as vector paths, the label mask export is
// the core's labels, and the settings survive a session round trip (a missing ground-truth file
// is one warning). `fovea export --view segment` draws the same figure headless.
#include "core/data/shapes_scene.h"
#include "core/io/json_file.h"
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/segment/ground_truth.h"
#include "core/segment/segment_metrics.h"
#include "core/segment/segment_model.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"
#include "widgets/segment_controller.h"
#include "widgets/segment_view.h"

#include <QComboBox>
#include <QFile>
#include <QListWidget>
#include <QProcess>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <functional>

using namespace fovea;

namespace {

const QString kShapes = QStringLiteral(FOVEA_SOURCE_DIR "/resources/models/shapes-vit");
constexpr std::uint64_t kSeed = 1000000000ULL + 500003;

// The core's segmentation of `image` with the shapes model, computed here without the window.
Segmentation coreSegmentation(const std::string& image, const std::string& method, const SegmentParams& given = {}) {
    const std::unique_ptr<Model> model = fovea::openModel(kShapes.toStdString());
    const ImageInput input = loadImageInput(image, model->spec());
    const Segmenter& segmenter = findSegmenter(method);
    return segmenter.segment(segmentInputsFor(*model, input, segmenter, SegmentRunOptions{}), segmenter.resolve(given));
}

// Closed curves findContours gives for a mask, counted independently: one outer boundary per
// 8-connected component of the mask, one hole per 4-connected background component that does
// not reach the border.
int expectedCurves(const cv::Mat1b& mask) {
    cv::Mat components;
    const int outer = cv::connectedComponents(mask, components, 8, CV_32S) - 1;
    const cv::Mat1b background = mask == 0;
    const int found = cv::connectedComponents(background, components, 4, CV_32S);
    std::vector<bool> touches(std::size_t(found), false);
    for (int y = 0; y < mask.rows; ++y) {
        for (int x = 0; x < mask.cols; ++x) {
            if (y == 0 || x == 0 || y == mask.rows - 1 || x == mask.cols - 1) {
                touches[std::size_t(components.at<int>(y, x))] = true;
            }
        }
    }
    int holes = 0;
    for (int c = 1; c < found; ++c) holes += touches[std::size_t(c)] ? 0 : 1;
    return outer + holes;
}

QImage render(const SegmentPainter& figure, const QSizeF& size) {
    QImage image(size.toSize(), QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    figure.paint(painter, QRectF(QPointF(0, 0), size));
    return image;
}

QPoint cellCentre(const QRectF& image, const cv::Mat1i& labels, int row, int col) {
    return QPointF(image.left() + (col + 0.5) * image.width() / labels.cols,
                   image.top() + (row + 0.5) * image.height() / labels.rows)
        .toPoint();
}

// Every cell centre of the figure: background cells show the bare image, segment cells the
// image blended with the segment's colour at the figure's opacity. Returns the mismatches.
int mismatchedCells(const SegmentPainter& figure, const cv::Mat1i& labels) {
    const QSizeF size(720, 480);
    SegmentPainter bare = figure;
    SegmentStyle hidden = figure.style();
    for (int label = 1; label <= figure.segmentCount(); ++label) hidden.hidden.push_back(label);
    bare.setStyle(hidden);
    const QImage drawn = render(figure, size), base = render(bare, size);
    const QRectF image = figure.imageRect(QRectF(QPointF(0, 0), size));
    const double alpha = std::lround(255.0 * figure.style().opacity) / 255.0;
    int wrong = 0;
    for (int row = 0; row < labels.rows; ++row) {
        for (int col = 0; col < labels.cols; ++col) {
            const QPoint at = cellCentre(image, labels, row, col);
            const QColor under = base.pixelColor(at), seen = drawn.pixelColor(at);
            const int label = labels(row, col);
            QColor expected = under;
            if (label > 0 && figure.isVisible(label)) {
                const QColor c = SegmentPainter::segmentColor(label);
                expected = QColor(int(std::lround(under.red() * (1 - alpha) + c.red() * alpha)),
                                  int(std::lround(under.green() * (1 - alpha) + c.green() * alpha)),
                                  int(std::lround(under.blue() * (1 - alpha) + c.blue() * alpha)));
            }
            if (std::abs(seen.red() - expected.red()) > 3 || std::abs(seen.green() - expected.green()) > 3 ||
                std::abs(seen.blue() - expected.blue()) > 3) {
                ++wrong;
            }
        }
    }
    return wrong;
}

}  // namespace

class TestSegmentView : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_image;
    Scene m_scene;

    static bool nextSegmentation(MainWindow& window, const std::function<void()>& action) {
        QSignalSpy updated(window.segmentation(), &SegmentController::segmentUpdated);
        action();
        return updated.count() > 0 || updated.wait(60000);
    }

    void openScene(MainWindow& window) {
        window.setQuiet(true);
        window.resize(1280, 820);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.setCurrentView("segment");
        QVERIFY2(nextSegmentation(window,
                                  [&] {
                                      window.openModel(kShapes);
                                      window.addInputs({m_image});
                                  }),
                 qPrintable(window.lastError()));
    }

  private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
        QVERIFY(m_dir.isValid());
        m_scene = generateScene(kSeed);
        m_image = m_dir.filePath("scene.png");
        QVERIFY(cv::imwrite(m_image.toStdString(), m_scene.image));
    }

    // TokenCut on the demo model: the window's labels and picture are the core's.
    void overlayMatchesTheCoreSegmentation() {
        MainWindow window;
        openScene(window);
        QCOMPARE(window.currentView(), QString("segment"));
        SegmentController* segment = window.segmentation();
        QVERIFY(segment->outcome());
        QCOMPARE(QString::fromStdString(window.state().segment.method), QString("tokencut"));
        const Segmentation expected = coreSegmentation(m_image.toStdString(), "tokencut");
        const cv::Mat1i& shown = segment->outcome()->result.labels;
        QCOMPARE(shown.size(), expected.labels.size());
        QCOMPARE(cv::countNonZero(shown != expected.labels), 0);
        QVERIFY(cv::countNonZero(expected.labels) > 0);
        QCOMPARE(segment->figure().segmentCount(), expected.count);
        QCOMPARE(mismatchedCells(segment->figure(), expected.labels), 0);
        for (int label = 1; label <= expected.count; ++label) {
            QCOMPARE(segment->figure().contourCount(label), expectedCurves(expected.labels == label));
        }
        QVERIFY(segment->figure().style().title.startsWith("TokenCut"));
        QVERIFY(segment->figure().contourCount(1) > 0);

        // Ctrl+5 comes back to the tab after another view.
        window.setCurrentView("heatmap");
        window.activateWindow();  // shortcuts need the active window (no window manager under Xvfb)
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTest::keyClick(&window, Qt::Key_5, Qt::ControlModifier);
        QCOMPARE(window.currentView(), QString("segment"));
    }

    // The work waits while the tab is hidden, runs when it is shown, and the newest request wins.
    void runsWhenShownAndTheNewestRequestWins() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1280, 820);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy figures(&window, &MainWindow::figureUpdated);
        window.openModel(kShapes);
        window.addInputs({m_image});
        QVERIFY(figures.wait(60000));
        QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 60000);
        QVERIFY(!window.segmentation()->outcome());  // the heatmap tab is in front: nothing computed
        QVERIFY(nextSegmentation(window, [&] { window.setCurrentView("segment"); }));
        QVERIFY(window.segmentation()->outcome());
        QVERIFY(nextSegmentation(
            window, [&] { window.findChild<QComboBox*>("segment-method")->setCurrentText("kmeans-parts"); }));
        auto* k = window.segmentation()->view()->findChild<QSpinBox*>("param-k");
        for (int value : {2, 6, 3, 5}) k->setValue(value);  // scrubbing: only the last one counts
        QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 60000);
        const Segmentation expected = coreSegmentation(m_image.toStdString(), "kmeans-parts", {{"k", 5}});
        QCOMPARE(cv::countNonZero(window.segmentation()->outcome()->result.labels != expected.labels), 0);
        QCOMPARE(window.segmentation()->figure().segmentCount(), expected.count);
    }

    // k-means parts through the generated editor: several colours, each where the core put it.
    void editorsDriveTheMethodAndTogglesHideSegments() {
        MainWindow window;
        openScene(window);
        auto* method = window.findChild<QComboBox*>("segment-method");
        QVERIFY(method);
        QVERIFY(nextSegmentation(window, [&] { method->setCurrentText("kmeans-parts"); }));
        auto* k = window.segmentation()->view()->findChild<QSpinBox*>("param-k");
        QVERIFY(k);
        QCOMPARE(k->value(), 4);  // the method's default, from its parameter list
        QVERIFY(nextSegmentation(window, [&] { k->setValue(3); }));
        QCOMPARE(window.state().segment.params.at("kmeans-parts").at("k"), 3.0);
        const Segmentation expected = coreSegmentation(m_image.toStdString(), "kmeans-parts", {{"k", 3}});
        const SegmentPainter& figure = window.segmentation()->figure();
        QCOMPARE(cv::countNonZero(window.segmentation()->outcome()->result.labels != expected.labels), 0);
        QVERIFY(figure.segmentCount() >= 2);
        QCOMPARE(mismatchedCells(figure, expected.labels), 0);
        int curves = 0;
        for (int label = 1; label <= expected.count; ++label) {
            QCOMPARE(figure.contourCount(label), expectedCurves(expected.labels == label));
            curves += figure.contourCount(label);
        }
        QVERIFY(curves >= figure.segmentCount());

        // Opacity: a display change, no new job, the same cells blended more strongly.
        auto* opacity = window.segmentation()->view()->findChild<QSlider*>("segment-opacity");
        QVERIFY(nextSegmentation(window, [&] { opacity->setValue(80); }));
        QVERIFY(!window.jobs()->busy());
        QVERIFY(std::abs(window.segmentation()->figure().style().opacity - 0.8) < 1e-6);
        QCOMPARE(mismatchedCells(window.segmentation()->figure(), expected.labels), 0);

        // Untick segment 1: its cells show the bare image, the others keep their colours.
        auto* list = window.segmentation()->view()->findChild<QListWidget*>("segment-list");
        QCOMPARE(list->count(), figure.segmentCount());
        QVERIFY(nextSegmentation(window, [&] { list->item(0)->setCheckState(Qt::Unchecked); }));
        const SegmentPainter& toggled = window.segmentation()->figure();
        QVERIFY(!toggled.isVisible(1));
        QVERIFY(toggled.isVisible(2));
        QCOMPARE(window.state().segment.hidden, std::vector<int>{1});
        QCOMPARE(mismatchedCells(toggled, expected.labels), 0);  // hidden cells are checked against the bare image
        const QSizeF size(720, 480);
        const QImage withOne = render(toggled, size);
        SegmentPainter all = toggled;
        SegmentStyle style = toggled.style();
        style.hidden.clear();
        all.setStyle(style);
        const QImage withAll = render(all, size);
        const QRectF image = toggled.imageRect(QRectF(QPointF(0, 0), size));
        int differing = 0;
        for (int row = 0; row < expected.labels.rows; ++row) {
            for (int col = 0; col < expected.labels.cols; ++col) {
                const QPoint at = cellCentre(image, expected.labels, row, col);
                const bool differs = withOne.pixel(at) != withAll.pixel(at);
                QCOMPARE(differs, expected.labels(row, col) == 1);
                differing += differs ? 1 : 0;
            }
        }
        QCOMPARE(differing, cv::countNonZero(expected.labels == 1));
        QVERIFY(nextSegmentation(window, [&] { list->item(0)->setCheckState(Qt::Checked); }));
        QVERIFY(window.segmentation()->figure().isVisible(1));
    }

    // A PNG label mask and COCO annotations as ground truth; the IoU shown is the core's.
    void groundTruthLoadsAndTheIoUIsTheCores() {
        const QString maskPath = m_dir.filePath("scene_gt.png");
        QVERIFY(cv::imwrite(maskPath.toStdString(), m_scene.labelMask));  // 16-bit, one label per object
        MainWindow window;
        openScene(window);
        SegmentController* segment = window.segmentation();
        QVERIFY(!segment->outcome()->hasGroundTruth());
        QVERIFY(segment->view()->iouText().contains("open the ground truth"));
        QVERIFY(nextSegmentation(window, [&] { segment->openGroundTruth(maskPath); }));
        QVERIFY2(segment->outcome()->hasGroundTruth(), qPrintable(window.lastError()));
        const Segmentation expected = coreSegmentation(m_image.toStdString(), "tokencut");
        const cv::Mat1b truth = m_scene.labelMask > 0;
        const double iou = maskIoU(resizeLabels(expected.labels, truth.size()) > 0, truth);
        QVERIFY(std::abs(segment->outcome()->iou - iou) < 1e-12);
        QVERIFY2(segment->view()->iouText().contains(QString::number(iou, 'f', 3)),
                 qPrintable(segment->view()->iouText()));
        QVERIFY(segment->figure().iou().has_value());
        int objects = 0;
        for (const SceneObject& object : m_scene.objects) objects += cv::countNonZero(object.mask) > 0 ? 1 : 0;
        QVERIFY(segment->figure().groundTruthContourCount() >= objects);
        QCOMPARE(QString::fromStdString(window.state().segment.groundTruthFor(m_image.toStdString())),
                 QFileInfo(maskPath).absoluteFilePath());

        // The target alone, as a COCO polygon (its box) in an instances file.
        const cv::Rect box = m_scene.targetBox;
        const nlohmann::json coco = {
            {"images", {{{"id", 7}, {"file_name", "scene.png"}, {"width", 64}, {"height", 64}}}},
            {"annotations",
             {{{"id", 1},
               {"image_id", 7},
               {"category_id", 3},
               {"iscrowd", 0},
               {"bbox", {box.x, box.y, box.width, box.height}},
               {"segmentation",
                {{box.x, box.y, box.x + box.width, box.y, box.x + box.width, box.y + box.height, box.x,
                  box.y + box.height}}}}}},
            {"categories", {{{"id", 3}, {"name", "target"}}}}};
        const QString cocoPath = m_dir.filePath("instances.json");
        writeJsonFile(cocoPath.toStdString(), coco);
        QVERIFY(nextSegmentation(window, [&] { segment->openGroundTruth(cocoPath); }));
        const std::vector<CocoObject> objectsInFile = readCocoObjects(cocoPath.toStdString(), "scene.png");
        QCOMPARE(int(objectsInFile.size()), 1);
        const double cocoIoU = maskIoU(resizeLabels(expected.labels, cv::Size(64, 64)) > 0, objectsInFile[0].mask);
        QVERIFY(std::abs(segment->outcome()->iou - cocoIoU) < 1e-12);
        QVERIFY(std::abs(cocoIoU - iou) > 1e-6);  // a different ground truth, a different score
        QCOMPARE(segment->figure().groundTruthContourCount(), 1);

        // A mask of the wrong size is refused with one line naming it; the COCO one stays.
        const QString wrong = m_dir.filePath("wrong_size.png");
        QVERIFY(cv::imwrite(wrong.toStdString(), cv::Mat1b(32, 32, uchar(1))));
        QSignalSpy failed(segment, &SegmentController::errorOccurred);
        segment->openGroundTruth(wrong);
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.first().first().toString().contains("wrong_size.png"),
                 qPrintable(failed.first().first().toString()));
        QVERIFY(!failed.first().first().toString().contains('\n'));
        QCOMPARE(QString::fromStdString(window.state().segment.groundTruthFor(m_image.toStdString())),
                 QFileInfo(cocoPath).absoluteFilePath());

        QVERIFY(nextSegmentation(window, [&] { segment->clearGroundTruth(); }));
        QVERIFY(!segment->outcome()->hasGroundTruth());
    }

    // SVG keeps fills and contours as paths; PNG and PDF write; the label mask is the core's.
    void exportsKeepVectorsAndTheLabelMask() {
        MainWindow window;
        openScene(window);
        QVERIFY(nextSegmentation(
            window, [&] { window.findChild<QComboBox*>("segment-method")->setCurrentText("kmeans-parts"); }));
        QTemporaryDir dir;
        window.exportFigure(dir.filePath("segment.svg"));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QFile svg(dir.filePath("segment.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        const SegmentPainter& figure = window.segmentation()->figure();
        int curves = 0;
        for (int label = 1; label <= figure.segmentCount(); ++label) curves += figure.contourCount(label);
        QVERIFY(curves > 0);
        QVERIFY(text.contains("<image"));  // the input, under the vectors
        // Each segment's outline is one path filled and the same path stroked, every curve a
        // sub-path ("M ...") of a vector <path>: at least two sub-paths per curve.
        QVERIFY2(text.count("<path") >= 2 * figure.segmentCount(), text.left(400).constData());
        int subPaths = 0;
        for (qsizetype at = text.indexOf(" d=\""); at >= 0; at = text.indexOf(" d=\"", at + 1)) {
            const QByteArray data = text.mid(at + 4, text.indexOf('"', at + 4) - at - 4);
            subPaths += int(data.count('M'));
        }
        QVERIFY2(subPaths >= 2 * curves,
                 qPrintable(QStringLiteral("%1 sub-paths, %2 curves").arg(subPaths).arg(curves)));
        QVERIFY(text.contains("segment 1"));  // the legend is text
        window.exportFigure(dir.filePath("segment.pdf"));
        QFile pdf(dir.filePath("segment.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.readAll().startsWith("%PDF-"));
        window.exportFigure(dir.filePath("segment.png"), 144);
        const QImage png(dir.filePath("segment.png"));
        QCOMPARE(png.width(), int(std::lround(figure.preferredSize().width() * 2)));

        window.segmentation()->exportLabelMask(dir.filePath("labels.png"));
        const cv::Mat written = cv::imread(dir.filePath("labels.png").toStdString(), cv::IMREAD_UNCHANGED);
        const Segmentation expected = coreSegmentation(m_image.toStdString(), "kmeans-parts");
        const cv::Mat wanted = labelMaskImage(resizeLabels(expected.labels, cv::Size(64, 64)));
        QCOMPARE(written.type(), CV_8UC1);
        QCOMPARE(written.size(), cv::Size(64, 64));
        QCOMPARE(cv::countNonZero(written != wanted), 0);
    }

    // Settings and ground truth come back from a session; a missing ground-truth file is one
    // warning and the rest opens.
    void sessionRoundTrip() {
        QTemporaryDir dir;
        const QString gt = dir.filePath("gt.png");
        QVERIFY(cv::imwrite(gt.toStdString(), cv::Mat(m_scene.targetMask / 255)));
        const QString path = dir.filePath("study.fovea");
        double iou = 0.0;
        {
            MainWindow window;
            openScene(window);
            SegmentSettings settings = window.state().segment;
            settings.method = "spectral";
            settings.params["spectral"]["regions"] = 3;
            settings.opacity = 0.3f;
            settings.boxes = false;
            settings.hidden = {2};
            QVERIFY(nextSegmentation(window, [&] { window.segmentation()->applySettings(settings); }));
            QVERIFY(nextSegmentation(window, [&] { window.segmentation()->openGroundTruth(gt); }));
            iou = window.segmentation()->outcome()->iou;
            QVERIFY(window.saveSession(path));
        }
        {
            MainWindow reopened;
            reopened.setQuiet(true);
            reopened.show();
            reopened.setCurrentView("segment");
            QVERIFY(nextSegmentation(reopened, [&] { QVERIFY(reopened.openSession(path)); }));
            const SegmentSettings& settings = reopened.state().segment;
            QCOMPARE(QString::fromStdString(settings.method), QString("spectral"));
            QCOMPARE(settings.params.at("spectral").at("regions"), 3.0);
            QCOMPARE(settings.opacity, 0.3f);
            QVERIFY(!settings.boxes);
            QCOMPARE(settings.hidden, std::vector<int>{2});
            QVERIFY(!reopened.segmentation()->figure().isVisible(2));
            QCOMPARE(reopened.segmentation()->figure().segmentCount(), 2);
            QVERIFY(reopened.segmentation()->outcome()->hasGroundTruth());
            QCOMPARE(reopened.segmentation()->outcome()->iou, iou);
            QCOMPARE(reopened.findChild<QSpinBox*>("param-regions")->value(), 3);
        }
        QVERIFY(QFile::remove(gt));
        MainWindow missing;
        missing.setQuiet(true);
        missing.show();
        missing.setCurrentView("segment");
        QVERIFY(nextSegmentation(missing, [&] {
            QVERIFY(missing.openSession(path));
            // One warning line for the missing file (read before the first map clears it).
            QVERIFY2(missing.lastError().contains("gt.png") && missing.lastError().contains("missing"),
                     qPrintable(missing.lastError()));
            QCOMPARE(missing.lastError().count("gt.png"), 1);
        }));
        QVERIFY(!missing.segmentation()->outcome()->hasGroundTruth());
        QCOMPARE(QString::fromStdString(missing.state().segment.method), QString("spectral"));
    }

    // Headless: `fovea export --view segment` writes the figure of a saved session.
    void exportCommandDrawsTheSegmentation() {
        QTemporaryDir dir;
        const QString session = dir.filePath("s.fovea");
        SessionState state;
        state.modelPath = kShapes.toStdString();
        state.inputs = {m_image.toStdString()};
        state.currentInput = 0;
        state.segment.method = "lost";
        saveSession(session.toStdString(), state);
        QProcess fovea;
        fovea.start(FOVEA_CLI_PATH,
                    {"export", session, "--view", "segment", "--out", dir.filePath("f.svg"), "--threads", "1"});
        QVERIFY(fovea.waitForFinished(120000));
        QVERIFY2(fovea.exitCode() == 0, fovea.readAllStandardError().constData());
        QFile svg(dir.filePath("f.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        QVERIFY(text.contains("LOST"));
        QVERIFY(text.contains("<path"));
        fovea.start(FOVEA_CLI_PATH, {"export", session, "--view", "segments", "--out", dir.filePath("g.svg")});
        QVERIFY(fovea.waitForFinished(60000));
        QCOMPARE(fovea.exitCode(), 2);  // a usage mistake
    }
};

QTEST_MAIN(TestSegmentView)
#include "test_segment_view.moc"
